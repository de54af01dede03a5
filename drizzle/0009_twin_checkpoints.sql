ALTER TABLE "twin_live" ADD COLUMN "nudged_urgent" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "twin_live" ADD COLUMN "unhealthy" text[] DEFAULT '{}'::text[] NOT NULL;