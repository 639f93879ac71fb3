/**
 * The audit log's retention (TSB_AUDIT_RETENTION_DAYS, src/features/audit/audit-retention.ts): a chain is pruned
 * to its newest checkpoint signed more than the retention ago, behind a prune statement that openssl verifies with
 * the partition's attestation key; the rows go an hour later; the export still verifies, by the service, the CLI's
 * verifier and openssl, and a deletion the statement does not cover is still found. Never past tampering.
 */

import { execFile } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { RequestsRepository } from '../../src/features/approvals/requests.repository.js';
import { Retention } from '../../src/features/approvals/retention.js';
import {
  chainRecords,
  GENESIS_HASH,
  pruneStatement,
  SERVICE_CHAIN,
} from '../../src/features/audit/audit-chain.js';
import { prunedLine } from '../../src/features/audit/audit-lines.js';
import { PRUNE_DELETE_DELAY_MS } from '../../src/features/audit/audit-retention.js';
import { createAudit, createAuditRetention } from '../../src/features/audit/audit-system.js';
import { verifyAuditLog } from '../../src/features/audit/audit-verifier.js';
import type { Partition } from '../../src/generated/prisma/client.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { statementFromDocs } from '../helpers/audit-statement.js';
import { runTsb } from '../helpers/cli.js';
import { opensslVerifies, withScratch } from '../helpers/openssl.js';

const DAY = 86_400_000;
const P = 'retained';
const SO = ['securityOfficer'] as const;
const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

// the service's clock stays behind the database's (which the retention also asks) in every test but one
let now = Date.now() - 200 * DAY;
const clock: Clock = { now: () => new Date(now) };

let t: TestContext;
let partition: Partition;

const parse = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

async function exportLog(): Promise<string> {
  const response = await t.call(P, [...SO], { method: 'GET', url: '/v1/audit/export' });
  expect(response.statusCode, response.body).toBe(200);
  return response.body;
}

/** `count` audited requests of the partition (each one entry). */
async function requests(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await t.call(P, ['keyManagement'], { method: 'GET', url: '/v1/key' });
    expect(response.statusCode).toBe(200);
  }
}

const sequences = async (table: 'AuditEntry' | 'AuditCheckpoint') =>
  (
    await t.prisma.$queryRawUnsafe<{ sequence: bigint }[]>(
      `SELECT "sequence" FROM "${table}" WHERE "chain" = $1 ORDER BY "sequence"`,
      partition.id,
    )
  ).map((row) => Number(row.sequence));

const retention = () =>
  createAuditRetention({ prisma: t.prisma, hsm: t.hsm, config: t.config, log: silent })!;

describe('audit log retention', () => {
  beforeAll(async () => {
    t = await createTestContext({
      clock,
      env: { TSB_AUDIT_CHECKPOINT_EVERY: '4', TSB_AUDIT_RETENTION_DAYS: '30' },
    });
    partition = await t.partition(P);
    await requests(10); // entries 1–10, checkpoints 4 and 8, signed 100 days ago
    now += 50 * DAY;
    await requests(6); // entries 11–16, checkpoints 12 and 16, 50 days ago
    now += 50 * DAY;
  });
  afterAll(async () => t?.close());

  it('is off unless configured (the log is kept for ever by default)', () => {
    expect(
      createAuditRetention({
        prisma: t.prisma,
        hsm: t.hsm,
        config: { audit: { ...t.config.audit, retentionDays: 0 } },
        log: silent,
      }),
    ).toBeNull();
  });

  it('prunes to the newest checkpoint older than the retention, and deletes only an hour later', async () => {
    const pass = retention();
    now -= 25 * DAY; // 75 days after the first requests: only checkpoints 4 and 8 are 30 days old
    expect(await pass.advance()).toBe(1);
    const prune = await t.prisma.auditPrune.findUniqueOrThrow({ where: { chain: partition.id } });
    expect(Number(prune.sequence)).toBe(8);
    expect(await pass.advance()).toBe(0); // nothing new is due
    now += PRUNE_DELETE_DELAY_MS - 60_000;
    expect(await pass.deleteSome(100)).toEqual({ entries: 0, checkpoints: 0 });
    expect((await sequences('AuditEntry'))[0]).toBe(1);

    // an export now starts at the prune point and verifies
    const text = await exportLog();
    const lines = parse(text);
    expect(lines[0]).toMatchObject({ type: 'header', format: 'opentsb-audit-log/3' });
    expect(lines[1]).toMatchObject({ type: 'pruned', sequence: 8 });
    expect(lines[2]).toMatchObject({ type: 'entry', sequence: 8 });
    const report = verifyAuditLog(text, {
      publicKey: createPublicKey({
        key: Buffer.from(partition.attestationPublicKey),
        format: 'der',
        type: 'spki',
      }),
    });
    expect(report).toMatchObject({ valid: true, startsAt: 8, problems: [] });

    now += 2 * 60_000;
    expect(await pass.deleteSome(100)).toEqual({ entries: 7, checkpoints: 1 });
    expect((await sequences('AuditEntry'))[0]).toBe(8);
    expect(await sequences('AuditCheckpoint')).toEqual(expect.arrayContaining([8, 12, 16]));
    expect((await sequences('AuditCheckpoint'))[0]).toBe(8);
    now += 25 * DAY;
  });

  it('exports a pruned log that the service, the CLI verifier and openssl accept, and finds a deletion it does not cover', async () => {
    const text = await exportLog();
    const verified = await t.app.inject({
      method: 'POST',
      url: '/v1/audit/verify',
      headers: { ...(await t.as(P, [...SO])), 'content-type': 'application/x-ndjson' },
      payload: text,
    });
    expect(verified.statusCode).toBe(200);
    expect(verified.json()).toMatchObject({ valid: true, startsAt: 8, problems: [] });

    // the prune statement rebuilt from docs/audit-log.md, independently of src/features/audit, checked by openssl
    const pruned = parse(text)[1]!;
    const statement = statementFromDocs(
      'opentsb-audit-prune/1',
      String(pruned['chain']),
      String(pruned['sequence']),
      Buffer.from(String(pruned['hash']), 'hex'),
      Buffer.from(String(pruned['checkpointHash']), 'hex'),
      String(pruned['at']),
    );
    const spki = Buffer.from(partition.attestationPublicKey);
    expect(await opensslVerifies(spki, statement, Buffer.from(String(pruned['signature']), 'base64'))).toBe(
      true,
    );
    const pem = `-----BEGIN PUBLIC KEY-----\n${Buffer.from(partition.attestationPublicKey).toString('base64')}\n-----END PUBLIC KEY-----\n`;
    await withScratch(async (scratch) => {
      await writeFile(path.join(scratch, 'attestation.pem'), pem);
      await writeFile(path.join(scratch, 'log.jsonl'), text);
      const cli = await runTsb(
        {},
        'audit',
        'verify',
        path.join(scratch, 'log.jsonl'),
        '--public-key',
        path.join(scratch, 'attestation.pem'),
      );
      expect(cli.code, cli.stdout + cli.stderr).toBe(0);
      expect(cli.stdout).toContain('starts at: 8 (the entries before were pruned)');
      // the Python verifier of docs/audit-log.md (hashes in Python, signatures by openssl) agrees
      const docs = await readFile(new URL('../../docs/audit-log.md', import.meta.url), 'utf8');
      const script = /### With openssl and a few lines of Python[\s\S]*?```python\n([\s\S]*?)```/.exec(
        docs,
      )![1]!;
      await writeFile(path.join(scratch, 'verify_audit.py'), script);
      const python = (file: string) =>
        new Promise<{ code: number; out: string }>((resolve) =>
          execFile(
            'python3',
            ['verify_audit.py', file, 'attestation.pem'],
            { cwd: scratch },
            (error, stdout, stderr) => resolve({ code: error ? 1 : 0, out: stdout + stderr }),
          ),
        );
      expect(await python('log.jsonl')).toEqual({
        code: 0,
        out: expect.stringMatching(/^valid: \d+ entries from entry 8, signed through \d+/),
      });
      const forged = parse(text);
      forged[1]!['sequence'] = 9; // the statement moved on, to hide entry 8
      await writeFile(
        path.join(scratch, 'forged.jsonl'),
        forged
          .filter((line) => line['sequence'] !== 8)
          .map((line) => `${JSON.stringify(line)}\n`)
          .join(''),
      );
      expect(await python('forged.jsonl')).toEqual({ code: 1, out: 'the prune statement: bad signature\n' });
    });
    // it names the kept checkpoint by the SHA-256 of that checkpoint's statement, as the next checkpoint does
    const next = parse(text).find((line) => line['type'] === 'checkpoint' && line['sequence'] === 12)!;
    expect(next['previousHash']).toBe(pruned['checkpointHash']);

    // an entry deleted behind the service's back, after the prune point, is still found
    await t.prisma.auditEntry.delete({ where: { chain_sequence: { chain: partition.id, sequence: 10n } } });
    const tampered = await exportLog();
    expect(verifyAuditLog(tampered).problems[0]).toMatchObject({ sequence: 10, kind: 'removed' });
    expect(createHash('sha256').update(tampered).digest('hex')).not.toBe(
      createHash('sha256').update(text).digest('hex'),
    );
  });

  it('never prunes to a checkpoint whose entry was changed: the evidence stays', async () => {
    // 12 and 16 are now older than the retention, but entry 16 was edited in the database
    await t.prisma.auditEntry.update({
      where: { chain_sequence: { chain: partition.id, sequence: 16n } },
      data: { outcome: 'failure' },
    });
    const warnings: unknown[] = [];
    const pass = createAuditRetention({
      prisma: t.prisma,
      hsm: t.hsm,
      config: t.config,
      log: { warn: (details) => warnings.push(details) },
    })!;
    expect(await pass.advance()).toBe(0);
    expect(warnings).toEqual([{ chain: partition.id, sequence: 16 }]);
    const prune = await t.prisma.auditPrune.findUniqueOrThrow({ where: { chain: partition.id } });
    expect(Number(prune.sequence)).toBe(8);
  });

  it('runs in the workflow retention pass; passes at once sign one prune point and delete each row once', async () => {
    await t.prisma.auditEntry.update({
      where: { chain_sequence: { chain: partition.id, sequence: 16n } },
      data: { outcome: 'success' },
    });
    const repository = new RequestsRepository(t.prisma);
    const passes = Array.from({ length: 3 }, () => new Retention(repository, t.hsm, 0, silent, retention()));
    const before = await sequences('AuditEntry');
    const first = await Promise.all(passes.map((pass) => pass.run()));
    expect(first.reduce((sum, pass) => sum + pass!.auditChains, 0)).toBe(1);
    expect(
      Number((await t.prisma.auditPrune.findUniqueOrThrow({ where: { chain: partition.id } })).sequence),
    ).toBe(16);
    now += PRUNE_DELETE_DELAY_MS + 60_000;
    const again = Array.from({ length: 3 }, () => new Retention(repository, t.hsm, 0, silent, retention()));
    const second = await Promise.all(again.map((pass) => pass.run()));
    const deleted = second.reduce((sum, pass) => sum + pass!.auditEntries, 0);
    expect(deleted).toBe(before.filter((sequence) => sequence < 16).length);
    expect((await sequences('AuditEntry'))[0]).toBe(16);
    const report = verifyAuditLog(await exportLog());
    expect(report).toMatchObject({ valid: true, startsAt: 16 });
  });

  it('prunes the unsigned service chain to its newest entry before the cutoff, and its export still verifies', async () => {
    const record = (at: Date) => ({
      chain: SERVICE_CHAIN,
      partitionId: null,
      at,
      credentialId: null,
      roles: [],
      action: 'POST /v1/synchronousSign',
      keyLabel: null,
      requestId: null,
      outcome: 'failure' as const,
      statusCode: 401,
      errorCode: 406,
    });
    const entries = chainRecords({ sequence: 0, hash: GENESIS_HASH }, [
      ...Array.from({ length: 5 }, (_, i) => record(new Date(now - (60 - i) * DAY))),
      ...Array.from({ length: 3 }, (_, i) => record(new Date(now - (3 - i) * DAY))),
    ]);
    await t.prisma.auditEntry.createMany({
      data: entries.map(({ summary: _summary, sequence, prevHash, hash, ...entry }) => ({
        ...entry,
        sequence: BigInt(sequence),
        prevHash: new Uint8Array(prevHash),
        hash: new Uint8Array(hash),
      })),
    });
    await t.prisma.auditHead.create({
      data: {
        chain: SERVICE_CHAIN,
        sequence: BigInt(entries.length),
        hash: new Uint8Array(entries.at(-1)!.hash),
      },
    });

    expect(await retention().advance()).toBe(1);
    const prune = await t.prisma.auditPrune.findUniqueOrThrow({ where: { chain: SERVICE_CHAIN } });
    expect(prune).toMatchObject({ sequence: 5n, signature: new Uint8Array(0) });
    now += PRUNE_DELETE_DELAY_MS + 60_000;
    expect(await retention().deleteSome(100)).toMatchObject({ entries: 4 });

    const audit = createAudit({ prisma: t.prisma, hsm: t.hsm, config: t.config });
    try {
      let text = '';
      for await (const chunk of await audit.service.export(null)) text += chunk;
      expect(parse(text)[1]).toMatchObject({ type: 'pruned', sequence: 5, signature: '' });
      const report = verifyAuditLog(text);
      expect(report).toMatchObject({ valid: true, startsAt: 5, entries: 4, keySource: 'none' });
    } finally {
      await audit.close();
    }
  });

  it("takes ages by the earlier of its own and the database server's clock: a clock set ahead ages nothing out", async () => {
    const fresh = await t.partition('fresh');
    now = Date.now();
    for (let i = 0; i < 8; i++) {
      expect((await t.call('fresh', ['keyManagement'], { method: 'GET', url: '/v1/key' })).statusCode).toBe(
        200,
      );
    }
    // the flush signs a checkpoint after its commit: wait for the one of entry 8
    await expect
      .poll(() => t.prisma.auditCheckpoint.count({ where: { chain: fresh.id } }), { timeout: 5_000 })
      .toBe(2);
    now = Date.now() + 10 * 365 * DAY; // by this clock alone, checkpoints 4 and 8 are ten years old
    await retention().advance();
    expect(await t.prisma.auditPrune.findUnique({ where: { chain: fresh.id } })).toBeNull();
    expect(await t.prisma.auditEntry.count({ where: { chain: fresh.id } })).toBeGreaterThanOrEqual(8);
  });

  /** `count` audited requests of partition `name`, then the wait for its checkpoints (one every 4 entries). */
  async function requestsOf(name: string, id: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      expect((await t.call(name, ['keyManagement'], { method: 'GET', url: '/v1/key' })).statusCode).toBe(200);
    }
    await expect
      .poll(() => t.prisma.auditCheckpoint.count({ where: { chain: id } }), { timeout: 5_000 })
      .toBeGreaterThanOrEqual(Math.floor(count / 4));
  }

  it('does not trust an attestation public key written into the partition row: no prune, no verify, no certificate', async () => {
    const swapped = await t.partition('swapped');
    now = Date.now() - 100 * DAY;
    await requestsOf('swapped', swapped.id, 8); // checkpoints 4 and 8, 100 days old
    now = Date.now() - 60_000;
    const genuine = Buffer.from(swapped.attestationPublicKey);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const theirs = publicKey.export({ type: 'spki', format: 'der' });
    await t.prisma.partition.update({
      where: { id: swapped.id },
      data: { attestationPublicKey: new Uint8Array(theirs), attestationCertificate: null },
    });
    await t.hsm.metadata.announce({ kind: 'partition', id: swapped.id }); // as the cache's 30 s would
    await expect(t.hsm.partition(swapped.id)).rejects.toMatchObject({ errorCode: 701 });
    await retention().advance();
    expect(await t.prisma.auditPrune.findUnique({ where: { chain: swapped.id } })).toBeNull();
    const verify = await t.app.inject({
      method: 'POST',
      url: '/v1/audit/verify',
      headers: { ...(await t.as('swapped', [...SO])), 'content-type': 'application/x-ndjson' },
      payload: '{}\n',
    });
    expect([verify.statusCode, verify.json().errorCode]).toEqual([500, 701]);
    // the service's CA issues no certificate for it either
    const stored = await t.prisma.partition.findUniqueOrThrow({ where: { id: swapped.id } });
    await expect(t.hsm.certificates.forPartition(stored)).rejects.toMatchObject({ errorCode: 701 });
    expect(
      (await t.prisma.partition.findUniqueOrThrow({ where: { id: swapped.id } })).attestationCertificate,
    ).toBeNull();

    // the genuine key back: the chain is pruned as before
    await t.prisma.partition.update({
      where: { id: swapped.id },
      data: { attestationPublicKey: new Uint8Array(genuine) },
    });
    await t.hsm.metadata.announce({ kind: 'partition', id: swapped.id });
    await retention().advance();
    const prune = await t.prisma.auditPrune.findUniqueOrThrow({ where: { chain: swapped.id } });
    expect(Number(prune.sequence)).toBe(8);
  });

  it('requires the checkpoint a prune statement names: a statement signed for an entry without one does not verify', async () => {
    await requests(3); // entries after the last checkpoint, at least two of them without one of their own
    const lines = parse(await exportLog());
    const start = Number(lines[1]!['sequence']);
    // a genuine signature (the attestation key's, as the retention would give for a checkpoint it was shown) on
    // a statement that prunes to the entry after the kept checkpoint, which has none: the next checkpoint's
    // predecessor lies below it, so no link shows the gap
    const checkpointed = new Set(
      lines.filter((line) => line['type'] === 'checkpoint').map((line) => line['sequence']),
    );
    const entry = lines.find(
      (line) =>
        line['type'] === 'entry' && Number(line['sequence']) > start && !checkpointed.has(line['sequence']),
    )!;
    const at = Number(entry['sequence']);
    const unsigned = {
      chain: partition.id,
      sequence: at,
      hash: Buffer.from(String(entry['hash']), 'hex'),
      checkpointHash: Buffer.alloc(32, 7),
      at: new Date(now),
    };
    const signature = await t.hsm.signWithAttestationKey(partition, pruneStatement(unsigned));
    const forged = [
      lines[0]!,
      prunedLine({ ...unsigned, signature }),
      ...lines.slice(2).filter((line) => Number(line['sequence']) >= at),
    ]
      .map((line) => `${JSON.stringify(line)}\n`)
      .join('');
    const publicKey = createPublicKey({
      key: Buffer.from(partition.attestationPublicKey),
      format: 'der',
      type: 'spki',
    });
    const report = verifyAuditLog(forged, { publicKey });
    expect(report.valid).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ sequence: at, kind: 'missing-checkpoint' })]);
    const pem = `-----BEGIN PUBLIC KEY-----\n${Buffer.from(partition.attestationPublicKey).toString('base64')}\n-----END PUBLIC KEY-----\n`;
    const docs = await readFile(new URL('../../docs/audit-log.md', import.meta.url), 'utf8');
    const script = /### With openssl and a few lines of Python[\s\S]*?```python\n([\s\S]*?)```/.exec(
      docs,
    )![1]!;
    await withScratch(async (scratch) => {
      await writeFile(path.join(scratch, 'attestation.pem'), pem);
      await writeFile(path.join(scratch, 'log.jsonl'), forged);
      await writeFile(path.join(scratch, 'verify_audit.py'), script);
      const python = await new Promise<{ code: number; out: string }>((resolve) =>
        execFile(
          'python3',
          ['verify_audit.py', 'log.jsonl', 'attestation.pem'],
          { cwd: scratch },
          (error, stdout, stderr) => resolve({ code: error ? 1 : 0, out: stdout + stderr }),
        ),
      );
      expect(python).toEqual({
        code: 1,
        out: `checkpoint ${at}: the one the prune statement names is missing\n`,
      });
    });
  });

  it('never prunes fresh entries behind a checkpoint signed while the service clock was behind', async () => {
    const behind = await t.partition('behind');
    now = Date.now() - 60_000;
    await requestsOf('behind', behind.id, 9); // entries 1–9 and checkpoints 4 and 8, all fresh
    now = Date.now() - 40 * DAY; // the clock falls behind while an export signs the head's checkpoint (entry 9)
    const exported = await t.call('behind', [...SO], { method: 'GET', url: '/v1/audit/export' });
    expect(exported.statusCode).toBe(200);
    expect(
      await t.prisma.auditCheckpoint.findUnique({
        where: { chain_sequence: { chain: behind.id, sequence: 9n } },
      }),
    ).toMatchObject({ at: new Date(now) });
    now = Date.now() - 60_000;
    const warnings: string[] = [];
    const pass = createAuditRetention({
      prisma: t.prisma,
      hsm: t.hsm,
      config: t.config,
      log: { warn: (_details, message) => warnings.push(message) },
    })!;
    await pass.advance();
    expect(await t.prisma.auditPrune.findUnique({ where: { chain: behind.id } })).toBeNull();
    expect(warnings).toContainEqual(
      expect.stringMatching(/checkpoint 9 is dated .* but its entry .* after the cutoff/),
    );
  });
});
