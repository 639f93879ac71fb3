/**
 * An attacker with write access to the database, but without the attestation key, rewrites a partition's
 * audit history in plain SQL: deletes the checkpoints, edits an entry, recomputes every later hash and
 * moves the head. The next export signs the head; the verifier must still see the rewrite, through the
 * checkpoints that are due every TSB_AUDIT_CHECKPOINT_EVERY entries and their own chain.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Partition } from '../../src/generated/prisma/client.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { runTsb } from '../helpers/cli.js';

const EVERY = 8;
const SO = ['securityOfficer'] as const;

let t: TestContext;
/** each test rewrites the chain of a partition of its own */
let partition: Partition;
let PARTITION = '';
let sql: pg.Client;
let dir: string;

/**
 * The entry encoding of docs/audit-log.md in SQL: each field as a 4-byte big-endian length and its UTF-8
 * bytes, null as FF FF FF FF; hash = SHA-256(prevHash ‖ encoding). Recomputes the chain from `from` on
 * and moves the head, as an attacker would.
 */
const RECHAIN = `
CREATE OR REPLACE FUNCTION pg_temp.f(v text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN v IS NULL THEN '\\xffffffff'::bytea
    ELSE int4send(octet_length(convert_to(v, 'UTF8'))) || convert_to(v, 'UTF8') END $$;
DO $$
DECLARE e record; prev bytea; h bytea;
BEGIN
  SELECT hash INTO prev FROM "AuditEntry" WHERE chain = current_setting('rechain.chain')
    AND sequence = current_setting('rechain.from')::bigint - 1;
  IF prev IS NULL THEN prev := '\\x' || repeat('00', 32); END IF;
  FOR e IN SELECT * FROM "AuditEntry" WHERE chain = current_setting('rechain.chain')
      AND sequence >= current_setting('rechain.from')::bigint ORDER BY sequence LOOP
    h := sha256(prev || pg_temp.f('opentsb-audit-entry/1') || pg_temp.f(e.chain) || pg_temp.f(e.sequence::text)
      || pg_temp.f(e."partitionId"::text)
      || pg_temp.f(to_char(e.at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) || pg_temp.f(e."credentialId")
      || pg_temp.f(array_to_string(e.roles, ',')) || pg_temp.f(e.action) || pg_temp.f(e."keyLabel")
      || pg_temp.f(e."requestId") || pg_temp.f(e.outcome) || pg_temp.f(e."statusCode"::text)
      || pg_temp.f(e."errorCode"::text));
    UPDATE "AuditEntry" SET "prevHash" = prev, hash = h WHERE chain = e.chain AND sequence = e.sequence;
    prev := h;
  END LOOP;
  UPDATE "AuditHead" SET hash = prev WHERE chain = current_setting('rechain.chain');
END $$;`;

async function rechain(from: number): Promise<void> {
  await sql.query(`SELECT set_config('rechain.chain', $1, false), set_config('rechain.from', $2, false)`, [
    partition.id,
    String(from),
  ]);
  await sql.query(RECHAIN);
}

async function exportLog(): Promise<string> {
  const response = await t.call(PARTITION, [...SO], { method: 'GET', url: '/v1/audit/export' });
  expect(response.statusCode, response.body).toBe(200);
  return response.body;
}

async function verifyByEndpoint(text: string) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/audit/verify',
    headers: { ...(await t.as(PARTITION, [...SO])), 'content-type': 'application/x-ndjson' },
    payload: text,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

async function verifyByCli(text: string) {
  const file = path.join(dir, `log-${randomBytes(4).toString('hex')}.jsonl`);
  await writeFile(file, text);
  return runTsb(
    { DATABASE_URL: t.databaseUrl, TSB_DATA_DIR: dir },
    'audit',
    'verify',
    file,
    '--certificate',
    path.join(dir, 'attestation.crt'),
  );
}

/** Appends `count` entries to the partition's chain (one request each). */
async function requests(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await t.call(PARTITION, ['service'], { method: 'GET', url: '/v1/versionInfo' });
    expect(response.statusCode).toBe(200);
  }
}

const head = async () =>
  Number(
    (await sql.query('SELECT sequence FROM "AuditHead" WHERE chain = $1', [partition.id])).rows[0].sequence,
  );

/** Waits until the checkpoints due up to the head are stored (they are signed after the commit). */
async function settled(): Promise<void> {
  const due = Math.floor((await head()) / EVERY);
  for (let i = 0; i < 100; i++) {
    const { rows } = await sql.query(
      `SELECT count(*)::int AS n FROM "AuditCheckpoint" WHERE chain = $1 AND sequence % ${EVERY} = 0`,
      [partition.id],
    );
    if (rows[0].n >= due) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  t = await createTestContext({ env: { TSB_AUDIT_CHECKPOINT_EVERY: String(EVERY) } });
  dir = await mkdtemp(path.join(tmpdir(), 'opentsb-audit-rewrite-'));
  sql = new pg.Client({ connectionString: t.databaseUrl });
  await sql.connect();
});
afterAll(async () => {
  await sql?.end();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a history rewritten in the database', () => {
  let tests = 0;
  beforeEach(async () => {
    PARTITION = `rewritten-${++tests}`;
    partition = await t.partition(PARTITION);
    const chain = await t.call(PARTITION, ['keyOperation'], {
      method: 'GET',
      url: '/v1/attestation/certificates',
    });
    await writeFile(path.join(dir, 'attestation.crt'), chain.json().attestation);
    await requests(30);
    await settled();
  });

  it('is reported, naming the first missing checkpoint, when every checkpoint was deleted', async () => {
    const before = await verifyByEndpoint(await exportLog());
    expect(before.valid, JSON.stringify(before.problems)).toBe(true);
    await requests(3);
    await settled();

    // the rewrite of the review: no checkpoint, one entry edited, every later hash recomputed, head moved
    const edited = 5;
    await sql.query('DELETE FROM "AuditCheckpoint" WHERE chain = $1', [partition.id]);
    await sql.query(
      `UPDATE "AuditEntry" SET action = 'GET /v1/nothing-happened' WHERE chain = $1 AND sequence = $2`,
      [partition.id, edited],
    );
    await rechain(edited);

    const text = await exportLog();
    const report = await verifyByEndpoint(text);
    expect(report.valid).toBe(false);
    // the hash chain itself is consistent (the SQL forgery is exact): only the checkpoints show it
    expect(report.problems.map((p: { kind: string }) => p.kind)).not.toContain('edited');
    expect(report.problems[0]).toMatchObject({ sequence: EVERY, kind: 'missing-checkpoint' });
    expect(report.problems[0].problem).toContain(`no checkpoints at entries ${EVERY}, ${2 * EVERY}`);

    const cli = await verifyByCli(text);
    expect(cli.code, cli.stdout).toBe(1);
    expect(cli.stderr).toContain(`the log is NOT valid: at ${EVERY} (missing-checkpoint)`);
    expect(cli.stdout).toContain(`no checkpoints at entries ${EVERY}, ${2 * EVERY}`);
  });

  it('is reported when the checkpoints after the one kept were deleted and the entries after it rewritten', async () => {
    const kept = 2 * EVERY;
    const total = await head();
    await sql.query('DELETE FROM "AuditCheckpoint" WHERE chain = $1 AND sequence > $2', [partition.id, kept]);
    await sql.query(`UPDATE "AuditEntry" SET outcome = 'success' WHERE chain = $1 AND sequence = $2`, [
      partition.id,
      kept + 1,
    ]);
    await rechain(kept + 1);

    const report = await verifyByEndpoint(await exportLog());
    expect(report.valid).toBe(false);
    expect(report.problems[0]).toMatchObject({ sequence: kept + EVERY, kind: 'missing-checkpoint' });
    expect(total).toBeGreaterThan(kept + EVERY);
  });

  it('is reported when one checkpoint in the middle was deleted', async () => {
    await sql.query('DELETE FROM "AuditCheckpoint" WHERE chain = $1 AND sequence = $2', [
      partition.id,
      EVERY,
    ]);
    const report = await verifyByEndpoint(await exportLog());
    expect(report.valid).toBe(false);
    expect(report.problems[0]).toMatchObject({ sequence: EVERY, kind: 'missing-checkpoint' });
    expect(report.problems[0].problem).toContain(`checkpoint ${2 * EVERY} was signed after it`);
  });
});
