-- Stateful hash-based signatures (issue 15): the one-time index of HSS/LMS and XMSS keys, reserved by an
-- atomic UPDATE before each signature (keystore/keys/stateful-indices.ts), never decreasing.
ALTER TABLE "Key" ADD COLUMN "statefulNext" BIGINT;
ALTER TABLE "Key" ADD COLUMN "statefulLimit" BIGINT;
ALTER TABLE "Key" ADD CONSTRAINT "Key_stateful_index_in_range"
  CHECK ("statefulNext" IS NULL OR ("statefulNext" >= 0 AND "statefulNext" <= "statefulLimit"));
