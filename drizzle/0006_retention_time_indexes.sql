CREATE INDEX "telemetry_time_brin_idx" ON "telemetry" USING brin ("time");--> statement-breakpoint
CREATE INDEX "twin_events_at_brin_idx" ON "twin_events" USING brin ("at");