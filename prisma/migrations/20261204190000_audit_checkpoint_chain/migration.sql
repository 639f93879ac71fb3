-- Checkpoints of version 2 name the checkpoint before them and the period they were signed under.
-- Rows stored before stay as they are (every IS NULL): they are checkpoints of version 1.
ALTER TABLE "AuditCheckpoint" ADD COLUMN "every" INTEGER,
ADD COLUMN "previousSequence" BIGINT,
ADD COLUMN "previousHash" BYTEA;
