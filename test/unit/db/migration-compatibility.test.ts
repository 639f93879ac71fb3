import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * During a rolling restart the release before still runs against the migrated database (docs/operations.md,
 * "Upgrades while the release before still runs"). A migration may add tables, indexes, and columns that are
 * nullable or have a default; it may drop a non-unique index. A column goes in two releases: the first stops
 * writing and reading it (`@ignore`), the release after drops it, and names it here.
 */
const DROPS_ALLOWED: readonly string[] = [
  // 'SkaRequest.evaluatedAt' once a release after ed98abe drops it
];

const MIGRATIONS = path.resolve(import.meta.dirname, '../../../prisma/migrations');

/** What in `sql` the release before could not live with, one line per change. */
function incompatibleChanges(sql: string): string[] {
  const statements = sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((statement) => statement.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  const found: string[] = [];
  for (const statement of statements) {
    if (/^DROP TABLE/i.test(statement)) found.push(statement);
    if (/\bRENAME\b/i.test(statement)) found.push(statement);
    if (/^DROP INDEX/i.test(statement) && /_(key|pkey)"?$/i.test(statement)) found.push(statement);
    const table = /^ALTER TABLE (?:ONLY )?"?([\w]+)"?/i.exec(statement)?.[1];
    if (!table) continue;
    const clauses = statement
      .slice(statement.indexOf(table) + table.length)
      .split(/,(?=\s*(?:ADD|DROP|ALTER)\b)/i);
    for (const clause of clauses.map((text) => text.replace(/^"?\s*/, '').trim())) {
      const dropped = /^DROP (?:COLUMN )?(?:IF EXISTS )?"?(\w+)"?/i.exec(clause);
      if (/^DROP CONSTRAINT/i.test(clause)) found.push(`${table}: ${clause}`);
      else if (dropped && !DROPS_ALLOWED.includes(`${table}.${dropped[1]}`))
        found.push(`${table}: ${clause}`);
      if (/^ALTER (?:COLUMN )?"?\w+"? (?:SET NOT NULL|DROP DEFAULT|(?:SET DATA )?TYPE)/i.test(clause))
        found.push(`${table}: ${clause}`);
      if (/^ADD (?:COLUMN )?/i.test(clause) && /NOT NULL/i.test(clause) && !/\bDEFAULT\b/i.test(clause))
        found.push(`${table}: ${clause}`);
    }
  }
  return found;
}

describe('migrations keep the release before working', () => {
  it('every migration only adds, or drops what the release before no longer uses', () => {
    const names = readdirSync(MIGRATIONS, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(names.length).toBeGreaterThan(10);
    const found = names.flatMap((name) =>
      incompatibleChanges(readFileSync(path.join(MIGRATIONS, name, 'migration.sql'), 'utf8')).map(
        (change) => `${name}: ${change}`,
      ),
    );
    expect(found).toEqual([]);
  });

  it('finds each kind of change the release before could not live with', () => {
    const refused = [
      'ALTER TABLE "SkaRequest" DROP COLUMN "evaluatedAt";',
      'ALTER TABLE "Key" ADD COLUMN "a" TEXT, DROP COLUMN "b";',
      'ALTER TABLE "Key" ADD COLUMN "flag" BOOLEAN NOT NULL;',
      'ALTER TABLE "Key" ALTER COLUMN "label" SET NOT NULL;',
      'ALTER TABLE "Key" ALTER COLUMN "useCount" TYPE INTEGER;',
      'ALTER TABLE "Partition" ALTER COLUMN "approverKeyAuthentication" DROP DEFAULT;',
      'ALTER TABLE "Key" RENAME COLUMN "label" TO "name";',
      'ALTER TABLE "Key" DROP CONSTRAINT "Key_pkey";',
      'DROP TABLE "AuditHead";',
      'DROP INDEX "Key_partitionId_label_key";',
    ];
    for (const sql of refused) expect(incompatibleChanges(sql), sql).toHaveLength(1);
    const accepted = [
      '-- DropIndex\nDROP INDEX "SkaRequest_status_idx";',
      'ALTER TABLE "Partition" ADD COLUMN "approverKeyAuthentication" BOOLEAN NOT NULL DEFAULT true;',
      'ALTER TABLE "Key" ADD COLUMN     "chainCode" BYTEA,\nADD COLUMN     "derivationType" TEXT;',
      'CREATE TABLE "X" ("id" UUID NOT NULL, CONSTRAINT "X_pkey" PRIMARY KEY ("id"));',
      'CREATE INDEX "X_id_idx" ON "X"("id");',
    ];
    for (const sql of accepted) expect(incompatibleChanges(sql), sql).toEqual([]);
  });
});
