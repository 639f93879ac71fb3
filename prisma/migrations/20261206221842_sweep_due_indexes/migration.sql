-- The sweep (the safety net for workflow jobs that Redis lost) asked every open request whether it was due: an
-- EXISTS probe of the tasks of each pending request, linear in open requests. Each of its three questions now
-- reads an index of the rows it asks for. A decision that no evaluation has read is found through the decided
-- tasks that are not settled yet: an evaluation settles the decisions it read, and the sweep those of requests
-- that have left PENDING. This migration settles the decisions stored before it as the old question judged
-- them, by their time against the last look at their request.

-- DropIndex
DROP INDEX "SkaRequest_status_idx";

-- AlterTable
ALTER TABLE "ApprovalTask" ADD COLUMN     "decisionSettled" BOOLEAN;

UPDATE "ApprovalTask" t
SET "decisionSettled" = (r."status" <> 'PENDING' OR t."decidedAt" < COALESCE(r."evaluatedAt", r."createdAt"))
FROM "SkaRequest" r
WHERE r."id" = t."requestId" AND t."decidedAt" IS NOT NULL;

-- CreateIndex
CREATE INDEX "SkaRequest_status_expiresAt_idx" ON "SkaRequest"("status", "expiresAt");

-- CreateIndex
CREATE INDEX "SkaRequest_approved_executableAt_idx" ON "SkaRequest"("executableAt") WHERE "status" = 'APPROVED';

-- CreateIndex
CREATE INDEX "ApprovalTask_unsettled_decision_idx" ON "ApprovalTask"("requestId") WHERE "decisionSettled" IS FALSE;
