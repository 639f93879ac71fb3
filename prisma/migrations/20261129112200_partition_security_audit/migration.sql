-- AlterTable
ALTER TABLE "Key" ADD COLUMN     "invalidatedAt" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "SecurityOfficer" (
    "id" UUID NOT NULL,
    "partitionId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "publicKey" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "SecurityOfficer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OfficerProposal" (
    "id" UUID NOT NULL,
    "partitionId" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "parameters" JSONB NOT NULL,
    "statement" BYTEA NOT NULL,
    "status" TEXT NOT NULL,
    "proposedBy" TEXT NOT NULL,
    "proposerPrincipal" TEXT NOT NULL,
    "proposerSignature" BYTEA NOT NULL,
    "decidedBy" TEXT,
    "deciderPrincipal" TEXT,
    "deciderSignature" BYTEA,
    "reason" TEXT,
    "errorCode" INTEGER,
    "errorMessage" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "decidedAt" TIMESTAMP(3),

    CONSTRAINT "OfficerProposal_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditHead" (
    "chain" TEXT NOT NULL,
    "sequence" BIGINT NOT NULL,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "AuditHead_pkey" PRIMARY KEY ("chain")
);

-- CreateTable
CREATE TABLE "AuditEntry" (
    "chain" TEXT NOT NULL,
    "sequence" BIGINT NOT NULL,
    "partitionId" UUID,
    "at" TIMESTAMP(3) NOT NULL,
    "credentialId" TEXT,
    "roles" TEXT[],
    "action" TEXT NOT NULL,
    "keyLabel" TEXT,
    "requestId" TEXT,
    "outcome" TEXT NOT NULL,
    "statusCode" INTEGER NOT NULL,
    "errorCode" INTEGER,
    "prevHash" BYTEA NOT NULL,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "AuditEntry_pkey" PRIMARY KEY ("chain","sequence")
);

-- CreateTable
CREATE TABLE "AuditCheckpoint" (
    "chain" TEXT NOT NULL,
    "sequence" BIGINT NOT NULL,
    "hash" BYTEA NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "signature" BYTEA NOT NULL,

    CONSTRAINT "AuditCheckpoint_pkey" PRIMARY KEY ("chain","sequence")
);

-- CreateIndex
CREATE UNIQUE INDEX "SecurityOfficer_partitionId_name_key" ON "SecurityOfficer"("partitionId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "SecurityOfficer_partitionId_fingerprint_key" ON "SecurityOfficer"("partitionId", "fingerprint");

-- CreateIndex
CREATE INDEX "OfficerProposal_partitionId_status_createdAt_idx" ON "OfficerProposal"("partitionId", "status", "createdAt");

-- AddForeignKey
ALTER TABLE "SecurityOfficer" ADD CONSTRAINT "SecurityOfficer_partitionId_fkey" FOREIGN KEY ("partitionId") REFERENCES "Partition"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OfficerProposal" ADD CONSTRAINT "OfficerProposal_partitionId_fkey" FOREIGN KEY ("partitionId") REFERENCES "Partition"("id") ON DELETE CASCADE ON UPDATE CASCADE;
