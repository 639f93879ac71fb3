-- Key labels are stored and compared in Unicode NFC (issue 12, finding 8, docs/input-limits.md): a label
-- typed composed or decomposed names one key. Stored labels that are not NFC become NFC, except where the
-- partition already holds the NFC spelling (or another spelling of it comes first). Those look-alike twins
-- keep their labels, so nothing is merged or lost, and docs/input-limits.md shows how to find them.
UPDATE "Key" AS k
SET "label" = normalize(k."label", NFC)
FROM (
  SELECT DISTINCT ON ("partitionId", normalize("label", NFC)) "id"
  FROM "Key"
  WHERE "label" <> normalize("label", NFC)
  ORDER BY "partitionId", normalize("label", NFC), "createdAt", "id"
) AS first
WHERE k."id" = first."id"
  AND NOT EXISTS (
    SELECT 1 FROM "Key" AS other
    WHERE other."partitionId" = k."partitionId" AND other."label" = normalize(k."label", NFC)
  )
