-- AlterTable
ALTER TABLE "Key" ADD COLUMN     "chainCode" BYTEA,
ADD COLUMN     "derivationType" TEXT,
ADD COLUMN     "derivationValue" TEXT;
