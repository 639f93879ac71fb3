-- CreateTable
CREATE TABLE "Partition" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "partitionKeySealed" BYTEA NOT NULL,
    "attestationKeySealed" BYTEA NOT NULL,
    "attestationPublicKey" BYTEA NOT NULL,
    "allowKeyImport" BOOLEAN NOT NULL DEFAULT true,
    "allowKeyExport" BOOLEAN NOT NULL DEFAULT false,
    "keyInvalidation" BOOLEAN NOT NULL DEFAULT false,
    "readOnly" BOOLEAN NOT NULL DEFAULT false,
    "allowObjectDestruction" BOOLEAN NOT NULL DEFAULT true,
    "allowObjectUsage" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Partition_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Key" (
    "id" UUID NOT NULL,
    "partitionId" UUID NOT NULL,
    "label" TEXT NOT NULL,
    "externalId" TEXT,
    "algorithm" TEXT NOT NULL,
    "algorithmOid" TEXT,
    "curveOid" TEXT,
    "keySize" INTEGER,
    "origin" TEXT NOT NULL,
    "publicOnly" BOOLEAN NOT NULL DEFAULT false,
    "publicKey" BYTEA,
    "certificate" BYTEA,
    "materialSealed" BYTEA,
    "passwordHash" TEXT,
    "attributes" JSONB NOT NULL,
    "policy" JSONB,
    "blocked" BOOLEAN NOT NULL DEFAULT false,
    "addressFormat" TEXT,
    "useCount" BIGINT NOT NULL DEFAULT 0,
    "version" INTEGER NOT NULL DEFAULT 1,
    "status" TEXT NOT NULL DEFAULT 'active',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Key_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" UUID NOT NULL,
    "partitionId" UUID NOT NULL,
    "keyHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ClientCertificate" (
    "id" UUID NOT NULL,
    "partitionId" UUID NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "roles" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),

    CONSTRAINT "ClientCertificate_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Partition_name_key" ON "Partition"("name");

-- CreateIndex
CREATE INDEX "Key_partitionId_status_idx" ON "Key"("partitionId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "Key_partitionId_label_key" ON "Key"("partitionId", "label");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_keyHash_key" ON "ApiKey"("keyHash");

-- CreateIndex
CREATE UNIQUE INDEX "ClientCertificate_fingerprint_key" ON "ClientCertificate"("fingerprint");

-- AddForeignKey
ALTER TABLE "Key" ADD CONSTRAINT "Key_partitionId_fkey" FOREIGN KEY ("partitionId") REFERENCES "Partition"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_partitionId_fkey" FOREIGN KEY ("partitionId") REFERENCES "Partition"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ClientCertificate" ADD CONSTRAINT "ClientCertificate_partitionId_fkey" FOREIGN KEY ("partitionId") REFERENCES "Partition"("id") ON DELETE CASCADE ON UPDATE CASCADE;
