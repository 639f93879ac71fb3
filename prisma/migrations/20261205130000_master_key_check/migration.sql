-- The master-key check value (issue 17): a random value sealed under the master key, stored at the first start,
-- so that a process with another master key refuses to start instead of sealing partitions under a second key.
-- CreateTable
CREATE TABLE "MasterKeyCheck" (
    "name" TEXT NOT NULL,
    "sealed" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "MasterKeyCheck_pkey" PRIMARY KEY ("name")
);
