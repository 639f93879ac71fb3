import { createPublicKey, verify } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createPrismaClient } from '../../src/db/prisma.js';
import type { AuditRecord } from '../../src/features/audit/audit-chain.js';
import { createAudit } from '../../src/features/audit/audit-system.js';
import type { Partition } from '../../src/generated/prisma/client.js';
import { DeferredUses } from '../../src/keystore/deferred-uses.js';
import { addUseCountsThroughPrisma } from '../../src/keystore/use-count-writers.js';
import { UseCounter } from '../../src/keystore/use-counter.js';
import { createTestContext, type TestContext } from '../helpers/app.js';

/**
 * The key uses of an HTTP request are committed in the transaction of its audit entry (the audit plugin
 * defers them through `UseCounter.deferInto`): a sign costs one commit, the answer still waits for its
 * count, and a transaction that fails withholds the result and counts nothing.
 */
let t: TestContext;
let partition: Partition;
const ids = new Map<string, string>();

const P = 'deferred';

async function createKey(label: string, body: object): Promise<void> {
  const response = await t.call(P, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: { label, ...body },
  });
  expect(response.statusCode, response.body).toBe(201);
  ids.set(label, response.json().json.uuid);
}

async function stored(label: string): Promise<number> {
  const key = await t.prisma.key.findUniqueOrThrow({ where: { id: ids.get(label)! } });
  return Number(key.useCount);
}

const auditEntries = async () => t.prisma.auditEntry.count({ where: { chain: partition.id } });

const PAYLOAD = Buffer.from('one commit per sign');
const sign = (keyName = 'ec') =>
  t.call(P, ['keyOperation'], {
    method: 'POST',
    url: '/v1/synchronousSign',
    body: {
      signRequest: {
        payload: PAYLOAD.toString('base64'),
        signKeyName: keyName,
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
      },
    },
  });

/**
 * Every statement this process sends to PostgreSQL while `fn` runs (every `pg` Client.query: Prisma's
 * adapter, the audit writer and the use counter alike), by prepared-statement name or leading keyword.
 */
async function statementsDuring(fn: () => Promise<void>): Promise<string[]> {
  const statements: string[] = [];
  type Query = (...args: unknown[]) => unknown;
  const prototype = pg.Client.prototype as unknown as { query: Query };
  const original = prototype.query;
  prototype.query = function counted(this: unknown, ...args: unknown[]) {
    const first = args[0] as string | { name?: string; text?: string };
    const text = typeof first === 'string' ? first : (first?.text ?? '');
    statements.push(
      (typeof first === 'object' && first?.name) || (/^\s*([A-Za-z]+)/.exec(text)?.[1] ?? 'OTHER'),
    );
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    prototype.query = original;
  }
  return statements;
}

async function refuseWith(table: string, event: string): Promise<() => Promise<void>> {
  await t.prisma.$executeRawUnsafe(`
    CREATE FUNCTION refuse_write() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'write refused'; END $$`);
  await t.prisma.$executeRawUnsafe(
    `CREATE TRIGGER refuse_write BEFORE ${event} ON "${table}" FOR EACH ROW EXECUTE FUNCTION refuse_write()`,
  );
  return async () => {
    await t.prisma.$executeRawUnsafe(`DROP TRIGGER refuse_write ON "${table}"`);
    await t.prisma.$executeRawUnsafe('DROP FUNCTION refuse_write()');
  };
}

beforeAll(async () => {
  // no checkpoint is due during the test: its statements would be counted too
  t = await createTestContext({ env: { TSB_AUDIT_CHECKPOINT_EVERY: '1000000' } });
  partition = await t.partition(P);
  const ec = { algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7' };
  await createKey('ec', { ...ec, attributes: { sign: true, decrypt: false, unwrap: false } });
  await createKey('other', { ...ec, attributes: { sign: true, decrypt: false, unwrap: false } });
  await createKey('free', {
    ...ec,
    attributes: { sign: true, decrypt: false, unwrap: false },
    policy: {
      ruleUse: null,
      ruleBlock: null,
      ruleUnblock: null,
      ruleModify: null,
      keyStatus: { blocked: false },
    },
  });
});
afterAll(async () => {
  await t?.close();
});

describe('key use counts of HTTP requests, committed with their audit entries', () => {
  it('an HTTP sign is one statement and one commit: its audit entry, which carries its use count', async () => {
    expect((await sign()).statusCode).toBe(200); // key and partition rows now cached
    const before = await stored('ec');
    const entries = await auditEntries();
    const answers: number[] = [];
    const statements = await statementsDuring(async () => {
      for (let i = 0; i < 10; i++) answers.push((await sign()).statusCode);
    });
    expect(answers).toEqual(Array(10).fill(200));
    // no use-count statement of its own, no BEGIN/COMMIT: one autocommitted append per request, in the form
    // for one key
    expect(statements).toEqual(Array(10).fill('opentsb-audit-append-one-key'));
    // answered means committed: count and entries are there without any flush
    expect(await stored('ec')).toBe(before + 10);
    expect(await auditEntries()).toBe(entries + 10);
  });

  it('over a real HTTP connection too (the body read from the socket, the deferral still reaches the handler)', async () => {
    const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
    const httpSign = async () => {
      const response = await fetch(`${address}/v1/synchronousSign`, {
        method: 'POST',
        headers: { ...(await t.as(P, ['keyOperation'])), 'content-type': 'application/json' },
        body: JSON.stringify({
          signRequest: {
            payload: PAYLOAD.toString('base64'),
            signKeyName: 'ec',
            signatureAlgorithm: 'SHA256_WITH_ECDSA',
          },
        }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    expect(await httpSign()).toBe(200);
    const before = await stored('ec');
    const answers: number[] = [];
    const statements = await statementsDuring(async () => {
      for (let i = 0; i < 5; i++) answers.push(await httpSign());
    });
    expect(answers).toEqual(Array(5).fill(200));
    expect(statements).toEqual(Array(5).fill('opentsb-audit-append-one-key'));
    expect(await stored('ec')).toBe(before + 5);
  });

  it('concurrent signs of two keys are all counted, in the audit log’s group commits', async () => {
    expect((await sign('other')).statusCode).toBe(200); // its row now cached
    const before = { ec: await stored('ec'), other: await stored('other') };
    let answers: number[] = [];
    const statements = await statementsDuring(async () => {
      answers = (
        await Promise.all(Array.from({ length: 40 }, (_, i) => sign(i % 4 === 0 ? 'other' : 'ec')))
      ).map((answer) => answer.statusCode);
    });
    expect(answers).toEqual(Array(40).fill(200));
    expect(statements.filter((name) => !name.startsWith('opentsb-audit-append'))).toEqual([]);
    expect(statements.length).toBeLessThan(40);
    expect({ ec: await stored('ec'), other: await stored('other') }).toEqual({
      ec: before.ec + 30,
      other: before.other + 10,
    });
  });

  it('withholds the signature (503, errorCode 2) and counts nothing when the audit entry cannot be committed', async () => {
    const before = await stored('ec');
    const undo = await refuseWith('AuditEntry', 'INSERT');
    try {
      const refused = await sign();
      expect(refused.statusCode, refused.body).toBe(503);
      expect(refused.json()).toMatchObject({ errorCode: 2, reason: 'res.error.connectivity' });
      expect(refused.body).not.toContain('signature');
    } finally {
      await undo();
    }
    expect(await stored('ec')).toBe(before);
    const answer = await sign();
    expect(answer.statusCode).toBe(200);
    expect(await stored('ec')).toBe(before + 1);
    // the signature that did leave is a real one
    const { publicKey } = (
      await t.call(P, ['keyManagement'], { method: 'POST', url: '/v1/key/attributes', body: { label: 'ec' } })
    ).json().json;
    const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' });
    const signature = Buffer.from(answer.json().signature, 'base64');
    expect(verify('sha256', PAYLOAD, { key, dsaEncoding: 'der' }, signature)).toBe(true);
  });

  it('writes no audit entry either when the count cannot be committed: entry and count are one transaction', async () => {
    const before = await stored('ec');
    const entries = await auditEntries();
    const undo = await refuseWith('Key', 'UPDATE OF "useCount"');
    try {
      const refused = await sign();
      expect(refused.statusCode, refused.body).toBe(503);
      expect(refused.json()).toMatchObject({ errorCode: 2 });
      expect(refused.body).not.toContain('signature');
    } finally {
      await undo();
    }
    expect(await stored('ec')).toBe(before);
    expect(await auditEntries()).toBe(entries);
  });

  it('counts a sign that the workflow runs at once (empty rule) exactly once, in the workflow’s own statement', async () => {
    const before = await stored('free');
    const response = await t.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/sign',
      body: {
        signRequest: {
          payload: PAYLOAD.toString('base64'),
          signKeyName: 'free',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
        },
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    const request = await t.prisma.skaRequest.findUniqueOrThrow({
      where: { id: response.json().signRequestId },
    });
    expect(request.status).toBe('EXECUTED');
    expect(await stored('free')).toBe(before + 1);
    await t.hsm.useCounter.flush();
    expect(await stored('free')).toBe(before + 1);
  });
});

describe('deferred key uses (UseCounter.deferInto) and the audit log', () => {
  const record = (): AuditRecord => ({
    chain: partition.id,
    partitionId: partition.id,
    at: new Date(),
    credentialId: null,
    roles: [],
    action: 'TEST deferred uses',
    keyLabel: null,
    requestId: null,
    outcome: 'success',
    statusCode: 200,
    errorCode: null,
  });

  it('collects the uses of a scope, a key used twice counted twice, and counts a use after the scope was taken itself', async () => {
    const counter = t.hsm.useCounter;
    const [ec, other] = [ids.get('ec')!, ids.get('other')!];
    const before = { ec: await stored('ec'), other: await stored('other') };
    const uses = new DeferredUses();
    let later: (() => Promise<void>) | undefined;
    await counter.deferInto(uses, async () => {
      await counter.record(ec);
      await new Promise((resolve) => setImmediate(resolve));
      await counter.record(ec);
      await counter.record(other);
      // work started in the scope that outlives it
      later = () => counter.record(ec);
    });
    // resolved without a write: the scope's owner commits them
    expect({ ec: await stored('ec'), other: await stored('other') }).toEqual(before);
    expect(new Map(uses.take())).toEqual(
      new Map([
        [ec, 2],
        [other, 1],
      ]),
    );
    expect(uses.take().size).toBe(0); // taken once only
    await later!();
    expect(await stored('ec')).toBe(before.ec + 1);
  });

  it('adds the uses of every record of a batch, summed per key, in the batch’s transaction', async () => {
    const audit = createAudit({ prisma: t.prisma, hsm: t.hsm, config: t.config });
    onTestFinished(() => audit.close());
    const [ec, other] = [ids.get('ec')!, ids.get('other')!];
    const before = { ec: await stored('ec'), other: await stored('other') };
    await Promise.all([
      audit.log.append(record(), new Map([[ec, 2]])),
      audit.log.append(
        record(),
        new Map([
          [other, 1],
          [ec, 1],
        ]),
      ),
      audit.log.append(record()),
    ]);
    expect({ ec: await stored('ec'), other: await stored('other') }).toEqual({
      ec: before.ec + 3,
      other: before.other + 1,
    });
  });

  it('appends a batch without key uses in the form for no key, and changes no count', async () => {
    const audit = createAudit({ prisma: t.prisma, hsm: t.hsm, config: t.config });
    onTestFinished(() => audit.close());
    const labels = ['ec', 'other', 'free'];
    const before = await Promise.all(labels.map(stored));
    const entries = await auditEntries();
    const statements = await statementsDuring(async () => {
      await audit.log.append(record()); // the locked path: this process's first append
      await audit.log.append(record());
    });
    expect(statements.filter((name) => name.startsWith('opentsb-audit-append'))).toEqual(
      Array(2).fill('opentsb-audit-append-no-key'),
    );
    expect(await auditEntries()).toBe(entries + 2);
    expect(await Promise.all(labels.map(stored))).toEqual(before);
  });

  it('adds nothing, in the forms for one key and for several, when the batch’s entries cannot be inserted', async () => {
    const audit = createAudit({ prisma: t.prisma, hsm: t.hsm, config: t.config });
    onTestFinished(() => audit.close());
    const [ec, other] = [ids.get('ec')!, ids.get('other')!];
    await audit.log.append(record()); // this process's head is known: the next appends take the fast path
    const before = { ec: await stored('ec'), other: await stored('other') };
    const entries = await auditEntries();
    const undo = await refuseWith('AuditEntry', 'INSERT');
    let statements: string[] = [];
    try {
      statements = await statementsDuring(async () => {
        await expect(audit.log.append(record(), new Map([[ec, 1]]))).rejects.toMatchObject({
          statusCode: 503,
          errorCode: 2,
        });
        await expect(
          audit.log.append(
            record(),
            new Map([
              [ec, 1],
              [other, 2],
            ]),
          ),
        ).rejects.toMatchObject({ statusCode: 503, errorCode: 2 });
      });
    } finally {
      await undo();
    }
    expect(statements).toEqual(
      expect.arrayContaining(['opentsb-audit-append-one-key', 'opentsb-audit-append']),
    );
    expect({ ec: await stored('ec'), other: await stored('other') }).toEqual(before);
    expect(await auditEntries()).toBe(entries);
  });

  it('two processes appending one key’s uses to one chain at once count each use once (the one-key form after a head that moved)', async () => {
    const processes = [
      createAudit({ prisma: t.prisma, hsm: t.hsm, config: t.config }),
      createAudit({ prisma: t.prisma, hsm: t.hsm, config: t.config }),
    ];
    onTestFinished(async () => {
      await Promise.all(processes.map((audit) => audit.close()));
    });
    const ec = ids.get('ec')!;
    const before = await stored('ec');
    const appends: Promise<void>[] = [];
    const statements = await statementsDuring(async () => {
      for (let round = 0; round < 40; round++) {
        for (const audit of processes) appends.push(audit.log.append(record(), new Map([[ec, 1]])));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(appends);
    });
    const oneKey = statements.filter((name) => name === 'opentsb-audit-append-one-key').length;
    // some of these statements find the head moved by the other process, insert nothing and go again on the
    // locked path (without the EXISTS guard, 144 uses were counted for 80); each use counts once all the same
    expect(oneKey).toBeGreaterThan(0);
    expect(statements.filter((name) => name === 'opentsb-audit-append')).toEqual([]);
    expect(await stored('ec')).toBe(before + 80);
  });

  it('two processes appending uses of the same keys in opposite orders, and a counter of its own, neither deadlock nor lose a count', async () => {
    const processes = [
      createAudit({ prisma: t.prisma, hsm: t.hsm, config: t.config }),
      createAudit({ prisma: t.prisma, hsm: t.hsm, config: t.config }),
    ];
    const ownPrisma = createPrismaClient(t.databaseUrl);
    onTestFinished(async () => {
      await Promise.all(processes.map((audit) => audit.close()));
      await ownPrisma.$disconnect();
    });
    const counter = new UseCounter(addUseCountsThroughPrisma(ownPrisma));
    const labels = ['ec', 'other', 'free'];
    const keys = labels.map((label) => ids.get(label)!);
    const before = await Promise.all(labels.map(stored));
    const appends: Promise<void>[] = [];
    for (let round = 0; round < 40; round++) {
      for (const [n, audit] of processes.entries()) {
        const order = n === 0 ? keys : [...keys].reverse();
        appends.push(audit.log.append(record(), new Map(order.map((id) => [id, 1]))));
      }
      for (const id of keys) appends.push(counter.record(id));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(appends);
    expect(await Promise.all(labels.map(stored))).toEqual(before.map((n) => n + 120));
  });
});
