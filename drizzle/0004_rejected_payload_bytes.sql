-- Rejected payloads were kept as text cut to 4 KiB, and a payload holding a NUL byte could not be
-- kept at all (which stopped ingest). Now they are the bytes that arrived.
ALTER TABLE "rejected_messages" ALTER COLUMN "payload" SET DATA TYPE bytea USING convert_to("payload", 'UTF8');
