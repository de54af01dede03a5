CREATE TABLE "devices" (
	"id" text PRIMARY KEY NOT NULL,
	"model_id" text,
	"serial_number" text,
	"firmware" text,
	"labels" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telemetry" (
	"device_id" text NOT NULL,
	"sensor" text NOT NULL,
	"value" jsonb,
	"time" timestamp with time zone NOT NULL,
	"device_time" timestamp with time zone,
	"received_at" timestamp with time zone NOT NULL,
	"seq" bigint
);
--> statement-breakpoint
CREATE TABLE "twins" (
	"device_id" text PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"revision" integer NOT NULL,
	"online" boolean NOT NULL,
	"last_seen_at" timestamp with time zone,
	"state" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "telemetry_device_sensor_time_idx" ON "telemetry" USING btree ("device_id","sensor","time" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "telemetry_redelivery_idx" ON "telemetry" USING btree ("device_id","sensor","seq","device_time") WHERE "telemetry"."seq" is not null and "telemetry"."device_time" is not null;--> statement-breakpoint
CREATE INDEX "twins_online_idx" ON "twins" USING btree ("online","device_id");