-- Approvers without an API credential (issue 14): a partition lets approvers authenticate by their key's
-- signatures alone unless this is turned off (`tsb partition approver-keys NAME --off`).
ALTER TABLE "Partition" ADD COLUMN "approverKeyAuthentication" BOOLEAN NOT NULL DEFAULT true;
