ALTER TABLE "twin_live" ADD COLUMN "sensor_health" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
-- Written before kinds were kept: each unhealthy sensor counts as INCONSISTENT, whose every change
-- is urgent (what all of them were), until the twin's next write says what it holds.
UPDATE "twin_live" SET "sensor_health" = (
  SELECT coalesce(jsonb_object_agg(name, 'INCONSISTENT'), '{}'::jsonb) FROM unnest("unhealthy") AS name
);--> statement-breakpoint
ALTER TABLE "twin_live" DROP COLUMN "unhealthy";
