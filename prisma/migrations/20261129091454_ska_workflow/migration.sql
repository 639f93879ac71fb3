-- AlterTable
ALTER TABLE "Key" ADD COLUMN     "lastRequestId" UUID;

-- AlterTable
ALTER TABLE "Partition" ADD COLUMN     "timestampKeySealed" BYTEA,
ADD COLUMN     "timestampPublicKey" BYTEA,
ADD COLUMN     "webhookUrl" TEXT;

-- CreateTable
CREATE TABLE "SkaRequest" (
    "id" UUID NOT NULL,
    "partitionId" UUID NOT NULL,
    "keyId" UUID NOT NULL,
    "keyLabel" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "body" JSONB NOT NULL,
    "passwordSealed" BYTEA,
    "metaData" TEXT,
    "metaDataSignature" TEXT,
    "rule" JSONB NOT NULL,
    "ruleDigest" BYTEA NOT NULL,
    "payloadDigest" BYTEA NOT NULL,
    "challenge" BYTEA NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "executableAt" TIMESTAMP(3),
    "expiresAt" TIMESTAMP(3),
    "evaluatedAt" TIMESTAMP(3),
    "executionClaimedAt" TIMESTAMP(3),
    "executedAt" TIMESTAMP(3),
    "result" TEXT,
    "errorCode" INTEGER,
    "errorMessage" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SkaRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApprovalTask" (
    "id" UUID NOT NULL,
    "requestId" UUID NOT NULL,
    "partitionId" UUID NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "approverPublicKey" BYTEA NOT NULL,
    "approverCertificate" BYTEA,
    "approverName" TEXT,
    "decision" TEXT,
    "signature" BYTEA,
    "digestAlgorithm" TEXT,
    "reason" TEXT,
    "decidedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL,
    "lastFetchedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ApprovalTask_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "SkaRequest_partitionId_status_createdAt_idx" ON "SkaRequest"("partitionId", "status", "createdAt");

-- CreateIndex
CREATE INDEX "SkaRequest_status_idx" ON "SkaRequest"("status");

-- CreateIndex
CREATE INDEX "SkaRequest_keyId_status_idx" ON "SkaRequest"("keyId", "status");

-- CreateIndex
CREATE INDEX "ApprovalTask_partitionId_fingerprint_decision_idx" ON "ApprovalTask"("partitionId", "fingerprint", "decision");

-- CreateIndex
CREATE UNIQUE INDEX "ApprovalTask_requestId_fingerprint_key" ON "ApprovalTask"("requestId", "fingerprint");

-- AddForeignKey
ALTER TABLE "SkaRequest" ADD CONSTRAINT "SkaRequest_partitionId_fkey" FOREIGN KEY ("partitionId") REFERENCES "Partition"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApprovalTask" ADD CONSTRAINT "ApprovalTask_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "SkaRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;
