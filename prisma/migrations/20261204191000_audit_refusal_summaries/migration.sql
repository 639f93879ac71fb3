-- An audit entry may stand for several refused unauthenticated requests of one client address and
-- window: their count, the first one's time and the address. Null on the entries of single requests.
ALTER TABLE "AuditEntry" ADD COLUMN "count" INTEGER,
ADD COLUMN "firstAt" TIMESTAMP(3),
ADD COLUMN "clientAddress" TEXT;
