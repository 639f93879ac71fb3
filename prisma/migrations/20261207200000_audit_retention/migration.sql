-- The audit log's retention (TSB_AUDIT_RETENTION_DAYS, src/features/audit/audit-retention.ts): how far each chain
-- was pruned, as a statement signed by the partition's attestation key. One row per chain, moved forward only.

-- CreateTable
CREATE TABLE "AuditPrune" (
    "chain" TEXT NOT NULL,
    "sequence" BIGINT NOT NULL,
    "hash" BYTEA NOT NULL,
    "checkpointHash" BYTEA NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "signature" BYTEA NOT NULL,

    CONSTRAINT "AuditPrune_pkey" PRIMARY KEY ("chain")
);

-- The retention looks up each chain's newest checkpoint signed before its cutoff (one index descent per chain)
-- CreateIndex
CREATE INDEX "AuditCheckpoint_chain_at_idx" ON "AuditCheckpoint"("chain", "at");
