-- DropIndex
DROP INDEX "ApprovalTask_partitionId_fingerprint_decision_idx";

-- CreateIndex
CREATE INDEX "ApprovalTask_partitionId_fingerprint_decision_createdAt_idx" ON "ApprovalTask"("partitionId", "fingerprint", "decision", "createdAt");
