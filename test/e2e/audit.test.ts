import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore } from '../../src/auth/api-keys.js';
import type { Partition } from '../../src/generated/prisma/client.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { approve, createApprover, rule, taskOf } from '../helpers/approvers.js';
import { statementFromDocs } from '../helpers/audit-statement.js';
import { runTsb } from '../helpers/cli.js';
import { openssl, withScratch } from '../helpers/openssl.js';

let t: TestContext;
let partition: Partition;
let sql: pg.Client;
let dir: string;
let apiKey: string;
let apiKeyId: string;
let attestationPem: string;
let certificatePem: string;

const PARTITION = 'audited';
const PASSWORD = 'correct horse battery staple';
const payload = randomBytes(48);
const SO = ['securityOfficer'] as const;
const signRequest = (keyPassword: string) => ({
  signRequest: {
    payload: payload.toString('base64'),
    signKeyName: 'signer',
    signatureAlgorithm: 'SHA256_WITH_ECDSA',
    keyPassword,
  },
});
const ids: { signRequestId?: string; taskId?: string } = {};

async function exportLog(): Promise<string> {
  const response = await t.call(PARTITION, [...SO], { method: 'GET', url: '/v1/audit/export' });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toContain('application/x-ndjson');
  return response.body;
}

const parse = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

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

function tsb(...args: string[]) {
  return runTsb(
    { DATABASE_URL: t.databaseUrl, TSB_DATA_DIR: dir, TSB_MASTER_KEY: t.masterKey.toString('base64') },
    ...args,
  );
}

async function verifyByCli(text: string) {
  const file = path.join(dir, `log-${randomBytes(4).toString('hex')}.jsonl`);
  await writeFile(file, text);
  return tsb('audit', 'verify', file, '--public-key', path.join(dir, 'attestation.pem'));
}

/** Entry rows of the partition's chain, as stored. */
const rows = async () =>
  (
    await sql.query(
      'SELECT sequence::int AS sequence, action, outcome, "statusCode", "errorCode", "keyLabel", "requestId", "credentialId" FROM "AuditEntry" WHERE chain = $1 ORDER BY sequence',
      [partition.id],
    )
  ).rows as Array<Record<string, unknown> & { sequence: number }>;

beforeAll(async () => {
  t = await createTestContext({ env: { TSB_AUDIT_REFUSAL_WINDOW_SECONDS: '1' } });
  partition = await t.partition(PARTITION);
  dir = await mkdtemp(path.join(tmpdir(), 'opentsb-audit-'));
  sql = new pg.Client({ connectionString: t.databaseUrl });
  await sql.connect();
  ({ key: apiKey, id: apiKeyId } = await new ApiKeyStore(t.prisma).create(partition.id, 'keyOperation'));

  // the attestation certificate is issued on first use: the export header then carries it
  const chain = await t.call(PARTITION, ['keyOperation'], {
    method: 'GET',
    url: '/v1/attestation/certificates',
  });
  certificatePem = chain.json().attestation;
  attestationPem = Buffer.from(
    (await t.prisma.partition.findUniqueOrThrow({ where: { id: partition.id } })).attestationPublicKey,
  ).toString('base64');
  attestationPem = `-----BEGIN PUBLIC KEY-----\n${attestationPem.replace(/.{1,64}/g, '$&\n')}-----END PUBLIC KEY-----\n`;
  await writeFile(path.join(dir, 'attestation.pem'), attestationPem);
  await writeFile(path.join(dir, 'attestation.crt'), certificatePem);

  const created = await t.call(PARTITION, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: {
      label: 'signer',
      password: PASSWORD,
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { decrypt: false, sign: true, unwrap: false },
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  const signed = await t.call(PARTITION, ['keyOperation'], {
    method: 'POST',
    url: '/v1/synchronousSign',
    body: signRequest(PASSWORD),
  });
  expect(signed.statusCode, signed.body).toBe(200);
  const wrongPassword = await t.call(PARTITION, ['keyOperation'], {
    method: 'POST',
    url: '/v1/synchronousSign',
    body: signRequest('not the password'),
  });
  expect(wrongPassword.statusCode).toBe(403);
  expect(wrongPassword.json().errorCode).toBe(620);
  const byApiKey = await t.app.inject({
    method: 'POST',
    url: '/v1/synchronousSign',
    headers: { 'x-api-key': apiKey },
    payload: signRequest(PASSWORD),
  });
  expect(byApiKey.statusCode, byApiKey.body).toBe(200);
  const wrongRole = await t.call(PARTITION, ['keyOperation'], { method: 'GET', url: '/v1/key' });
  expect(wrongRole.statusCode).toBe(403);
  const anonymous = await t.app.inject({ method: 'GET', url: '/v1/key' });
  expect(anonymous.statusCode).toBe(401);

  // an SKA request and its approval
  const approver = createApprover('P-256');
  const ska = await t.call(PARTITION, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: {
      label: 'governed',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { decrypt: false, sign: true, unwrap: false },
      policy: { ruleUse: rule([{ quorum: 1, approvers: [approver] }]), keyStatus: { blocked: false } },
    },
  });
  expect(ska.statusCode, ska.body).toBe(201);
  const requested = await t.call(PARTITION, ['keyOperation'], {
    method: 'POST',
    url: '/v1/sign',
    body: {
      signRequest: {
        payload: payload.toString('base64'),
        signKeyName: 'governed',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
      },
    },
  });
  expect(requested.statusCode, requested.body).toBe(201);
  ids.signRequestId = requested.json().signRequestId;
  const task = await taskOf(t, PARTITION, approver, ids.signRequestId!);
  ids.taskId = task.id;
  const approved = await approve(t, PARTITION, approver, task);
  expect(approved.statusCode, approved.body).toBe(200);
});

afterAll(async () => {
  await sql?.end();
  await t?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the audit log of a partition', () => {
  it('holds every request, refused ones too, with who, what, outcome and error code', async () => {
    const entries = (await rows()).map(({ sequence: _sequence, ...entry }) => entry);
    const jwt = expect.stringMatching(/^jwt:/);
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'POST /v1/key',
          keyLabel: 'signer',
          outcome: 'success',
          statusCode: 201,
          credentialId: jwt,
        }),
        expect.objectContaining({
          action: 'POST /v1/synchronousSign',
          keyLabel: 'signer',
          outcome: 'success',
          statusCode: 200,
          errorCode: null,
          credentialId: jwt,
        }),
        expect.objectContaining({
          action: 'POST /v1/synchronousSign',
          outcome: 'failure',
          statusCode: 403,
          errorCode: 620,
        }),
        expect.objectContaining({
          action: 'POST /v1/synchronousSign',
          outcome: 'success',
          credentialId: `apiKey:${apiKeyId}`,
        }),
        expect.objectContaining({
          action: 'GET /v1/key',
          outcome: 'failure',
          statusCode: 403,
          errorCode: 400,
        }),
        expect.objectContaining({
          action: 'POST /v1/sign',
          keyLabel: 'governed',
          requestId: ids.signRequestId,
          statusCode: 201,
        }),
        expect.objectContaining({ action: 'POST /v1/approval', requestId: ids.taskId, statusCode: 200 }),
        expect.objectContaining({ action: 'POST /v1/filteredAllApprovalTask', outcome: 'success' }),
      ]),
    );
    const roles = await sql.query(
      'SELECT roles FROM "AuditEntry" WHERE chain = $1 AND "statusCode" = 403 AND "errorCode" = 400',
      [partition.id],
    );
    expect(roles.rows[0].roles).toEqual(['keyOperation']);
    // the request without credentials named no partition: the service chain counts it in the summary of
    // its address and window (written when the window ends)
    const service = async () =>
      (
        await sql.query(
          `SELECT action, "statusCode", "errorCode", "partitionId", roles, count, "clientAddress", "firstAt" <= at AS ordered
           FROM "AuditEntry" WHERE chain = 'service'`,
        )
      ).rows;
    for (let i = 0; i < 100 && (await service()).length === 0; i++) await sleep(50);
    expect(await service()).toEqual([
      {
        action: 'refused unauthenticated requests',
        statusCode: 401,
        errorCode: 406,
        partitionId: null,
        roles: [],
        count: 1,
        clientAddress: '127.0.0.1',
        ordered: true,
      },
    ]);
  });

  it('has the entry of a request stored before its answer arrives', async () => {
    const response = await t.call(PARTITION, ['service'], { method: 'GET', url: '/v1/versionInfo' });
    expect(response.statusCode).toBe(200);
    const last = (await rows()).at(-1)!;
    expect(last).toMatchObject({ action: 'GET /v1/versionInfo', statusCode: 200, outcome: 'success' });
  });

  it('answers 503 (errorCode 2) instead of the result when the entry cannot be stored', async () => {
    const { rows: heads } = await sql.query('SELECT sequence::int AS s FROM "AuditHead" WHERE chain = $1', [
      partition.id,
    ]);
    const blocked = heads[0].s + 1;
    await sql.query(
      `INSERT INTO "AuditEntry" (chain, sequence, at, roles, action, outcome, "statusCode", "prevHash", hash)
       VALUES ($1, $2, now(), '{}', 'blocker', 'success', 200, '\\x00', '\\x00')`,
      [partition.id, blocked],
    );
    try {
      const response = await t.call(PARTITION, ['keyOperation'], {
        method: 'POST',
        url: '/v1/synchronousSign',
        body: signRequest(PASSWORD),
      });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ errorCode: 2, reason: 'res.error.connectivity' });
      expect(response.json().message).toContain('audit log');
      expect(response.body).not.toContain('signature');
    } finally {
      await sql.query('DELETE FROM "AuditEntry" WHERE chain = $1 AND sequence = $2', [partition.id, blocked]);
    }
    expect((await t.call(PARTITION, ['service'], { method: 'GET', url: '/v1/versionInfo' })).statusCode).toBe(
      200,
    );
  });

  it('exports JSON lines that the endpoint and `tsb audit verify` find valid', async () => {
    const text = await exportLog();
    const lines = parse(text);
    expect(lines[0]).toMatchObject({
      type: 'header',
      chain: partition.id,
      partition: { id: partition.id, name: PARTITION },
      attestationPublicKey: attestationPem,
      attestationCertificate: certificatePem,
    });
    const entries = lines.filter((line) => line['type'] === 'entry');
    expect(entries.map((line) => line['sequence'])).toEqual(entries.map((_, i) => i + 1));
    expect(lines.at(-1)).toMatchObject({ type: 'checkpoint', sequence: entries.length });

    expect(await verifyByEndpoint(text)).toMatchObject({
      valid: true,
      entries: entries.length,
      coveredThrough: entries.length,
      keySource: 'given',
      problems: [],
    });
    const asJson = await t.call(PARTITION, [...SO], {
      method: 'POST',
      url: '/v1/audit/verify',
      body: { log: text },
    });
    expect(asJson.json()).toMatchObject({ valid: true });

    const cli = await verifyByCli(text);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^valid$/m);
    const file = path.join(dir, 'export.jsonl');
    await writeFile(file, text);
    const withCertificate = await tsb(
      'audit',
      'verify',
      file,
      '--certificate',
      path.join(dir, 'attestation.crt'),
    );
    expect(withCertificate.code, withCertificate.stderr).toBe(0);
    const headerOnly = await tsb('audit', 'verify', file);
    expect(headerOnly.code).toBe(0);
    expect(headerOnly.stdout).toContain('against the key in the file’s header only');
  });

  it('signs checkpoints that openssl verifies with the attestation public key alone', async () => {
    const lines = parse(await exportLog());
    const checkpoints = lines.filter((line) => line['type'] === 'checkpoint');
    const checkpoint = checkpoints.at(-1)!;
    // the statement rebuilt from docs/audit-log.md, independently of src/audit
    const statementOf = (line: Record<string, unknown>) =>
      statementFromDocs(
        'opentsb-audit-checkpoint/2',
        String(line['chain']),
        String(line['sequence']),
        Buffer.from(String(line['hash']), 'hex'),
        String(line['at']),
        String(line['every']),
        String(line['previousSequence']),
        Buffer.from(String(line['previousHash']), 'hex'),
      );
    expect(checkpoint).toMatchObject({ version: 2, every: t.config.audit.checkpointEvery });
    // it names the checkpoint before it: the SHA-256 of that one's statement
    const previous = checkpoints.find((line) => line['sequence'] === checkpoint['previousSequence'])!;
    expect(previous).toBeDefined();
    expect(checkpoint['previousHash']).toBe(createHash('sha256').update(statementOf(previous)).digest('hex'));
    const output = await withScratch(async (scratch) => {
      await writeFile(path.join(scratch, 'attestation.pem'), attestationPem);
      await writeFile(path.join(scratch, 'statement'), statementOf(checkpoint));
      await writeFile(path.join(scratch, 'sig'), Buffer.from(String(checkpoint['signature']), 'base64'));
      return openssl(
        ['dgst', '-sha256', '-verify', 'attestation.pem', '-signature', 'sig', 'statement'],
        scratch,
      );
    });
    expect(output).toContain('Verified OK');
  });

  it('never holds the payload, the key password or the credentials', async () => {
    const text = await exportLog();
    const token = (await t.as(PARTITION, ['keyOperation'])).authorization!.replace('Bearer ', '');
    for (const secret of [
      payload.toString('base64'),
      payload.toString('hex'),
      payload.toString('hex').toUpperCase(),
      PASSWORD,
      apiKey,
      token,
    ]) {
      expect(text).not.toContain(secret);
    }
    const { rows: dump } = await sql.query('SELECT row_to_json(e)::text AS row FROM "AuditEntry" e');
    const all = dump.map((row) => row.row).join('\n');
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(apiKey);
    expect(all).not.toContain(payload.toString('hex'));
  });
});

describe('tampering with the stored rows', () => {
  /** Tampers, checks that the endpoint and the CLI both find it, and undoes the change. */
  async function detects(kind: string, tamper: () => Promise<number>, undo: () => Promise<void>) {
    const sequence = await tamper();
    try {
      const text = await exportLog();
      const report = await verifyByEndpoint(text);
      expect(report.valid).toBe(false);
      expect(report.problems[0]).toMatchObject({ sequence, kind });
      const cli = await verifyByCli(text);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toContain(`the log is NOT valid: at ${sequence} (${kind})`);
    } finally {
      await undo();
    }
    expect((await verifyByEndpoint(await exportLog())).valid).toBe(true);
  }

  const failedSign = async () => (await rows()).find((row) => row['errorCode'] === 620)!.sequence;

  it('finds an entry whose outcome was changed', async () => {
    const sequence = await failedSign();
    const set = (outcome: string) =>
      sql.query('UPDATE "AuditEntry" SET outcome = $3 WHERE chain = $1 AND sequence = $2', [
        partition.id,
        sequence,
        outcome,
      ]);
    await detects(
      'edited',
      async () => {
        await set('success');
        return sequence;
      },
      async () => {
        await set('failure');
      },
    );
  });

  it('finds a deleted entry', async () => {
    const sequence = await failedSign();
    let saved: Record<string, unknown> = {};
    await detects(
      'removed',
      async () => {
        saved = (
          await sql.query('DELETE FROM "AuditEntry" WHERE chain = $1 AND sequence = $2 RETURNING *', [
            partition.id,
            sequence,
          ])
        ).rows[0];
        return sequence;
      },
      async () => {
        const columns = Object.keys(saved);
        await sql.query(
          `INSERT INTO "AuditEntry" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
          Object.values(saved),
        );
      },
    );
  });

  it('finds two entries whose sequence numbers were swapped', async () => {
    const a = await failedSign();
    const b = a + 1;
    const swap = async () => {
      await sql.query('BEGIN');
      await sql.query('UPDATE "AuditEntry" SET sequence = -1 WHERE chain = $1 AND sequence = $2', [
        partition.id,
        a,
      ]);
      await sql.query('UPDATE "AuditEntry" SET sequence = $2 WHERE chain = $1 AND sequence = $3', [
        partition.id,
        a,
        b,
      ]);
      await sql.query('UPDATE "AuditEntry" SET sequence = $2 WHERE chain = $1 AND sequence = -1', [
        partition.id,
        b,
      ]);
      await sql.query('COMMIT');
    };
    await detects(
      'reordered',
      async () => {
        await swap();
        return a;
      },
      swap,
    );
  });

  it('finds a checkpoint whose signature was changed', async () => {
    await exportLog();
    const { rows: checkpoints } = await sql.query(
      'SELECT sequence::int AS sequence, signature FROM "AuditCheckpoint" WHERE chain = $1 ORDER BY sequence LIMIT 1',
      [partition.id],
    );
    const { sequence, signature } = checkpoints[0] as { sequence: number; signature: Buffer };
    const forged = Buffer.from(signature);
    forged[forged.length - 1]! ^= 0x01;
    const set = (value: Buffer) =>
      sql.query('UPDATE "AuditCheckpoint" SET signature = $3 WHERE chain = $1 AND sequence = $2', [
        partition.id,
        sequence,
        value,
      ]);
    await detects(
      'bad-signature',
      async () => {
        await set(forged);
        return sequence;
      },
      async () => {
        await set(signature);
      },
    );
  });
});

describe('tsb audit export', () => {
  it('exports a partition (verifiable offline) and the unsigned service chain', async () => {
    const out = path.join(dir, 'cli-export.jsonl');
    const exported = await tsb('audit', 'export', PARTITION, '--out', out);
    expect(exported.code, exported.stderr).toBe(0);
    const verified = await verifyByCli(await readFile(out, 'utf8'));
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);

    const service = await tsb('audit', 'export', '@service');
    expect(service.code, service.stderr).toBe(0);
    expect(parse(service.stdout)[0]).toMatchObject({ chain: 'service', attestationPublicKey: null });
    const file = path.join(dir, 'service.jsonl');
    await writeFile(file, service.stdout);
    const unsigned = await tsb('audit', 'verify', file);
    expect(unsigned.code, unsigned.stdout).toBe(0);
    expect(unsigned.stdout).toContain('valid hash chain; unsigned');

    const unknown = await tsb('audit', 'export', 'no-such-partition');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown partition');
  });
});
