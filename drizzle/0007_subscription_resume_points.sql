ALTER TABLE "alerts" ADD COLUMN "change_seq" bigserial NOT NULL;--> statement-breakpoint
ALTER TABLE "command_events" ADD COLUMN "feed_seq" bigserial NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_change_seq_idx" ON "alerts" USING btree ("change_seq");--> statement-breakpoint
CREATE UNIQUE INDEX "command_events_feed_seq_idx" ON "command_events" USING btree ("feed_seq");