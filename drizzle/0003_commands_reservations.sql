CREATE TABLE "command_events" (
	"command_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"status" text NOT NULL,
	"attempt" integer NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"error" text,
	CONSTRAINT "command_events_command_id_seq_pk" PRIMARY KEY("command_id","seq")
);
--> statement-breakpoint
CREATE TABLE "commands" (
	"id" uuid PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"name" text NOT NULL,
	"args" jsonb,
	"status" text NOT NULL,
	"attempts" integer NOT NULL,
	"max_attempts" integer NOT NULL,
	"timeout_seconds" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"result" jsonb,
	"error" text,
	"idempotency_key" text,
	"requested_by" text NOT NULL,
	"reservation_id" uuid,
	"revision" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reservations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"device_id" text NOT NULL,
	"holder" text NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"released_at" timestamp with time zone,
	"revision" integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX "commands_device_created_idx" ON "commands" USING btree ("device_id","created_at" DESC NULLS LAST,"id");--> statement-breakpoint
CREATE UNIQUE INDEX "commands_idempotency_idx" ON "commands" USING btree ("device_id","idempotency_key") WHERE "commands"."idempotency_key" is not null;--> statement-breakpoint
CREATE INDEX "reservations_device_idx" ON "reservations" USING btree ("device_id","created_at" DESC NULLS LAST);