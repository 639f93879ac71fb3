-- Ended SKA requests are deleted TSB_REQUEST_RETENTION_DAYS after their last change (src/features/approvals/retention.ts):
-- the deletion reads the ended requests in the order of their last change from this partial index. Only an
-- ending puts a request into it. Every status change is an update of an indexed column already, and the updates that
-- keep the status (a claim of a timelocked execution, the release of a claim, the erasure of a read result) now
-- change an indexed column too.

-- CreateIndex
CREATE INDEX "SkaRequest_ended_updatedAt_idx" ON "SkaRequest"("updatedAt")
WHERE "status" IN ('EXECUTED', 'FAILED', 'EXPIRED', 'REJECTED', 'CANCELLED');
