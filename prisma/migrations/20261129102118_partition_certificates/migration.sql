-- AlterTable
ALTER TABLE "Partition" ADD COLUMN     "attestationCertificate" BYTEA,
ADD COLUMN     "timestampCertificate" BYTEA;

-- CreateTable
CREATE TABLE "CertificateAuthority" (
    "name" TEXT NOT NULL,
    "rootKeySealed" BYTEA NOT NULL,
    "rootCertificate" BYTEA NOT NULL,
    "deviceKeySealed" BYTEA NOT NULL,
    "deviceCertificate" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CertificateAuthority_pkey" PRIMARY KEY ("name")
);
