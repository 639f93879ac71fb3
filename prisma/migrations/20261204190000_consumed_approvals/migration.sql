-- CreateTable
CREATE TABLE "ConsumedApproval" (
    "keyId" UUID NOT NULL,
    "challengeDigest" BYTEA NOT NULL,
    "consumedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ConsumedApproval_pkey" PRIMARY KEY ("keyId","challengeDigest")
);

-- CreateIndex
CREATE INDEX "ConsumedApproval_consumedAt_idx" ON "ConsumedApproval"("consumedAt");

-- Open SKA requests carry challenges of the earlier form (without the operation parameters digest),
-- which the approval gate no longer accepts: they end here, visibly, instead of failing later.
UPDATE "SkaRequest"
SET "status" = 'CANCELLED',
    "errorMessage" = 'cancelled by the upgrade to approval challenges that bind the operation parameters, create the request again',
    "executionClaimedAt" = NULL,
    "updatedAt" = CURRENT_TIMESTAMP
WHERE "status" IN ('PENDING', 'APPROVED');
