CREATE TABLE "twin_inbox" (
	"device_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"batch" jsonb NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	CONSTRAINT "twin_inbox_device_id_seq_pk" PRIMARY KEY("device_id","seq")
);
--> statement-breakpoint
CREATE TABLE "twin_live" (
	"device_id" text PRIMARY KEY NOT NULL,
	"sensors" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"last_seen_at" timestamp with time zone,
	"inbox_seq" bigint DEFAULT 0 NOT NULL,
	"applied_seq" bigint DEFAULT 0 NOT NULL,
	"nudged_seq" bigint DEFAULT 0 NOT NULL,
	"nudged_at" timestamp with time zone,
	"urgent_seq" bigint DEFAULT 0 NOT NULL,
	"pending_since" timestamp with time zone
);
