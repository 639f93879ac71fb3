import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createPrismaClient } from '../../src/db/prisma.js';
import { TsbError } from '../../src/errors.js';
import { type AddUseCounts, addUseCountsThroughPrisma } from '../../src/keystore/use-count-writers.js';
import { UseCounter } from '../../src/keystore/use-counter.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

/**
 * The key-use counter's group commit against the real database: a use's promise resolves only once its
 * count is committed, concurrent uses all land, and a write that fails fails the use (and the operation).
 */
let t: TestContext;
const ids = new Map<string, string>();

async function createKey(label: string, body: object): Promise<void> {
  const response = await t.call('counted', ['keyManagement'], {
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

/** The way the counts are written, on its own connection to `databaseUrl`. */
const WRITERS: [string, (databaseUrl: string) => { add: AddUseCounts; close(): Promise<void> }][] = [
  [
    'through Prisma',
    (databaseUrl) => {
      const prisma = createPrismaClient(databaseUrl);
      return { add: addUseCountsThroughPrisma(prisma), close: () => prisma.$disconnect() };
    },
  ],
];

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  return done;
};

beforeAll(async () => {
  t = await createTestContext();
  await t.partition('counted');
  for (const label of ['a', 'b', 'c']) {
    await createKey(label, {
      algorithm: 'AES',
      keySize: 256,
      attributes: { decrypt: true, sign: false, unwrap: false },
    });
  }
  await createKey('ec', {
    algorithm: 'EC',
    curveOid: '1.2.840.10045.3.1.7',
    attributes: { sign: true, decrypt: false, unwrap: false },
  });
});
afterAll(async () => {
  await t?.close();
});

describe.each(WRITERS)('key use counter (group commit) %s', (_name, writer) => {
  it('lands every use of many concurrent records, of several keys, exactly', async () => {
    const { add, close } = writer(t.databaseUrl);
    onTestFinished(close);
    const counter = new UseCounter(add);
    const before = { a: await stored('a'), b: await stored('b'), c: await stored('c') };
    const uses: Promise<void>[] = [];
    // in several turns of the event loop, so that later records join batches while one is being written
    for (let turn = 0; turn < 10; turn++) {
      for (let i = 0; i < 30; i++) uses.push(counter.record(ids.get(['a', 'b', 'c'][i % 3]!)!));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(uses);
    expect({ a: await stored('a'), b: await stored('b'), c: await stored('c') }).toEqual({
      a: before.a + 100,
      b: before.b + 100,
      c: before.c + 100,
    });
  });

  it('two processes adding to the same keys in opposite orders neither deadlock nor lose a count', async () => {
    const writers = [writer(t.databaseUrl), writer(t.databaseUrl)];
    onTestFinished(() => Promise.all(writers.map((w) => w.close())).then(() => {}));
    const [first, second] = writers.map((w) => new UseCounter(w.add));
    const keys = ['a', 'b', 'c'].map((label) => ids.get(label)!);
    const before = await Promise.all(['a', 'b', 'c'].map(stored));
    const uses: Promise<void>[] = [];
    for (let round = 0; round < 50; round++) {
      for (const id of keys) uses.push(first!.record(id));
      for (const id of [...keys].reverse()) uses.push(second!.record(id));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(uses);
    expect(await Promise.all(['a', 'b', 'c'].map(stored))).toEqual(before.map((n) => n + 100));
  });

  it('locks the rows of a batch in the order of their ids, whatever order the uses came in', async () => {
    const { add, close } = writer(t.databaseUrl);
    onTestFinished(close);
    const counter = new UseCounter(add);
    const [low, middle, high] = ['a', 'b', 'c'].map((label) => ids.get(label)!).sort();
    const blocker = new pg.Client({ connectionString: t.databaseUrl });
    const probe = new pg.Client({ connectionString: t.databaseUrl });
    await Promise.all([blocker.connect(), probe.connect()]);
    try {
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM "Key" WHERE id = $1 FOR UPDATE', [middle]);
      const uses = [high!, middle!, low!].map((id) => counter.record(id));
      // the counter's statement now waits for the middle row: it holds the lower row, not yet the higher
      for (let waited = 0; ; waited += 20) {
        const { rowCount } = await probe.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%useCount%'`,
        );
        if (rowCount) break;
        if (waited > 5_000) throw new Error('the counter never waited for the locked row');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await probe.query('BEGIN');
      await expect(
        probe.query('SELECT 1 FROM "Key" WHERE id = $1 FOR UPDATE NOWAIT', [low]),
      ).rejects.toMatchObject({ code: '55P03' });
      await probe.query('ROLLBACK');
      await probe.query('BEGIN');
      await probe.query('SELECT 1 FROM "Key" WHERE id = $1 FOR UPDATE NOWAIT', [high]);
      await probe.query('ROLLBACK');
      await blocker.query('COMMIT');
      await Promise.all(uses);
    } finally {
      await Promise.all([blocker.end(), probe.end()]);
    }
  });

  it('resolves a use only after its count is committed, and writes uses that arrive meanwhile next', async () => {
    const { add, close } = writer(t.databaseUrl);
    onTestFinished(close);
    const counter = new UseCounter(add);
    const id = ids.get('a')!;
    const before = await stored('a');
    const blocker = new pg.Client({ connectionString: t.databaseUrl });
    await blocker.connect();
    try {
      // another transaction holds the key's row: the counter's UPDATE waits for it
      await blocker.query('BEGIN');
      await blocker.query('SELECT 1 FROM "Key" WHERE id = $1 FOR UPDATE', [id]);
      const first = [counter.record(id), counter.record(id)];
      expect(await settled(Promise.race(first))).toBe(false);
      const meanwhile = [counter.record(id), counter.record(id), counter.record(id)];
      expect(await settled(Promise.race(meanwhile))).toBe(false);
      expect(await stored('a')).toBe(before);

      await blocker.query('COMMIT');
      await Promise.all(first);
      // resolved: committed, so a reader on another connection sees it
      expect(await stored('a')).toBeGreaterThanOrEqual(before + 2);
      await Promise.all(meanwhile);
      expect(await stored('a')).toBe(before + 5);
    } finally {
      await blocker.end();
    }
  });

  it('rejects the uses of a batch whose write fails with 503 errorCode 2, and counts again afterwards', async () => {
    const direct = new URL(t.databaseUrl);
    const proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(t.databaseUrl);
    proxied.port = String(proxy.port);
    const { add, close } = writer(proxied.toString());
    try {
      const counter = new UseCounter(add);
      const id = ids.get('b')!;
      await counter.record(id);
      const before = await stored('b');

      proxy.block();
      const refused = await Promise.allSettled([counter.record(id), counter.record(id)]);
      for (const outcome of refused) {
        expect(outcome.status).toBe('rejected');
        const error = (outcome as PromiseRejectedResult).reason as TsbError;
        expect(error).toBeInstanceOf(TsbError);
        expect({ status: error.statusCode, errorCode: error.errorCode }).toEqual({
          status: 503,
          errorCode: 2,
        });
      }
      expect(await stored('b')).toBe(before);

      proxy.unblock();
      await counter.record(id);
      expect(await stored('b')).toBe(before + 1);
    } finally {
      await close();
      await proxy.close();
    }
  });
});

describe('key use counts of the operations', () => {
  it('answers a sign only after its use is stored, and withholds the signature (503, errorCode 2) when the count cannot be written', async () => {
    const sign = () =>
      t.call('counted', ['keyOperation'], {
        method: 'POST',
        url: '/v1/synchronousSign',
        body: {
          signRequest: {
            payload: Buffer.from('counted use').toString('base64'),
            signKeyName: 'ec',
            signatureAlgorithm: 'SHA256_WITH_ECDSA',
          },
        },
      });
    const before = await stored('ec');
    const answers = await Promise.all(Array.from({ length: 20 }, sign));
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(20).fill(200));
    // no flush: every answered use is in the database already, and the key's attributes report it
    expect(await stored('ec')).toBe(before + 20);
    const attributes = await t.call('counted', ['keyManagement'], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'ec' },
    });
    expect(attributes.json().json.keyUsageCount).toBe(before + 20);

    // the database refuses the count (and only that); the signature is computed but must not leave
    await t.prisma.$executeRawUnsafe(`
      CREATE FUNCTION refuse_use_count() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'use count refused'; END $$`);
    await t.prisma.$executeRawUnsafe(
      'CREATE TRIGGER refuse_use_count BEFORE UPDATE OF "useCount" ON "Key" FOR EACH ROW EXECUTE FUNCTION refuse_use_count()',
    );
    try {
      const refused = await sign();
      expect(refused.statusCode, refused.body).toBe(503);
      expect(refused.json()).toMatchObject({ errorCode: 2, reason: 'res.error.connectivity' });
      expect(refused.body).not.toContain('signature');
    } finally {
      await t.prisma.$executeRawUnsafe('DROP TRIGGER refuse_use_count ON "Key"');
      await t.prisma.$executeRawUnsafe('DROP FUNCTION refuse_use_count()');
    }
    expect(await stored('ec')).toBe(before + 20);
    expect((await sign()).statusCode).toBe(200);
    expect(await stored('ec')).toBe(before + 21);
  });
});
