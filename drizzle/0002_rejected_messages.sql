CREATE TABLE "rejected_messages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"topic" text NOT NULL,
	"device_id" text,
	"reason" text NOT NULL,
	"detail" text NOT NULL,
	"payload" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "rejected_messages_received_idx" ON "rejected_messages" USING btree ("received_at" DESC NULLS LAST);