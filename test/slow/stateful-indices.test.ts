/**
 * The one-time indices of stateful hash-based keys (issue 15) on real API processes sharing one database:
 * two processes sign with one key in parallel, then one of them is killed (SIGKILL) in the middle of a
 * burst, restarted, and signing goes on. Every answered signature's index is read from the signature
 * itself: none may repeat, and the stored next index is past all of them. Two keys: one that reserves an
 * index per statement (2^10 signatures) and one that reserves blocks of 64 (2^20 signatures).
 * STATEFUL_BURST sets the requests per burst (default 120).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hssSignatureIndex, hssVerify } from '../../src/crypto/stateful/hss.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { type ChildService, call, kill, startApi, stopAll, tsb } from '../helpers/processes.js';

const PARTITION = 'stateful';
const BURST = Number(process.env.STATEFUL_BURST ?? 120);

describe.each([
  ['LMS-SHA256_M32_H5_W8-H5_W8', 'one index per reservation'],
  ['LMS-SHA256_M32_H10_W4-H10_W4', 'blocks of 64 per process'],
])('%s (%s): two API processes and SIGKILL never hand out an index twice', (keyType) => {
  let db: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  let apis: ChildService[];
  let operationKey: string;
  let publicKey: Buffer;
  const label = 'stateful';
  /** every index an answered signature carried */
  const seen: number[] = [];

  beforeAll(async () => {
    [db, dataDir] = await Promise.all([
      createTestDatabase(),
      mkdtemp(path.join(tmpdir(), 'opentsb-stateful-')),
    ]);
    env = {
      DATABASE_URL: db.url,
      TSB_MASTER_KEY: randomBytes(32).toString('base64'),
      TSB_DATA_DIR: dataDir,
      TSB_QUEUE_PREFIX: `stateful-${randomBytes(6).toString('hex')}`,
      TSB_WORKFLOW_WORKER: 'false',
    };
    await tsb(['partition', 'create', PARTITION], env);
    const [management, operation] = await Promise.all(
      ['keyManagement', 'keyOperation'].map(async (role) =>
        (await tsb(['apikey', 'create', '--partition', PARTITION, '--role', role], env)).trim(),
      ),
    );
    operationKey = operation!;
    apis = await Promise.all([startApi('stateful-a', env), startApi('stateful-b', env)]);
    const created = await call<{ json: { publicKey: string } }>(
      apis[0]!.url,
      'POST',
      '/v1/key',
      management!,
      { label, algorithm: keyType, attributes: { sign: true, decrypt: false, unwrap: false } },
      120_000,
    );
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    // SPKI: the HSS public key is the last 60 bytes
    publicKey = Buffer.from(created.json.json.publicKey, 'base64').subarray(-60);
  }, 300_000);

  afterAll(async () => {
    await stopAll(3_000);
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const message = (i: number) => Buffer.from(`message ${i}`);

  /** One burst spread over the given processes; kills `victim` after `killAfter` answers. */
  async function burst(targets: ChildService[], victim?: { api: ChildService; killAfter: number }) {
    let answered = 0;
    let killing: Promise<void> | null = null;
    const outcomes = await Promise.all(
      Array.from({ length: BURST }, async (_, i) => {
        const api = targets[i % targets.length]!;
        try {
          const answer = await call<{ signature: string }>(
            api.url,
            'POST',
            '/v1/synchronousSign',
            operationKey,
            {
              signRequest: {
                payload: message(i).toString('base64'),
                signKeyName: label,
                signatureAlgorithm: 'LMS',
              },
            },
            120_000,
          );
          if (answer.status !== 200) return { status: answer.status };
          const signature = Buffer.from(answer.json.signature, 'base64');
          if (victim && ++answered === victim.killAfter) killing = kill(victim.api);
          return {
            status: 200,
            index: hssSignatureIndex(signature),
            valid: i % 17 === 0 ? hssVerify(publicKey, message(i), signature) : true,
          };
        } catch {
          return { status: 'cut' as const };
        }
      }),
    );
    await killing;
    const signed = outcomes.filter((outcome) => outcome.status === 200);
    for (const outcome of signed) {
      expect(outcome.valid).toBe(true);
      seen.push(outcome.index!);
    }
    return {
      answered: signed.length,
      cut: outcomes.filter((outcome) => outcome.status === 'cut').length,
      other: outcomes.filter((outcome) => outcome.status !== 200 && outcome.status !== 'cut'),
    };
  }

  const storedNext = async () =>
    Number((await db.prisma.key.findFirstOrThrow({ where: { label } })).statefulNext);

  const expectNoIndexTwice = async () => {
    expect(new Set(seen).size, 'an index was handed out twice').toBe(seen.length);
    expect(Math.max(...seen)).toBeLessThan(await storedNext());
  };

  it('two processes signing in parallel share no index', async () => {
    const { answered, other } = await burst(apis);
    expect(other).toEqual([]);
    expect(answered).toBe(BURST);
    await expectNoIndexTwice();
  });

  it('SIGKILL of one process mid-burst, restart, go on: no index reused', async () => {
    const [a, b] = apis as [ChildService, ChildService];
    const port = Number(new URL(a.url).port);
    // most of the burst goes to the process that is killed early, so the kill cuts signatures in flight
    const { answered, cut, other } = await burst([a, a, a, b], { api: a, killAfter: 3 });
    console.log(`[stateful-indices] ${keyType}: answered=${answered} cut=${cut} other=${other.length}`);
    expect(cut, 'the kill must cut requests in flight').toBeGreaterThan(0);
    expect(other).toEqual([]);
    await expectNoIndexTwice();
    const restarted = await startApi('stateful-a', env, { port });
    apis = [restarted, b];
    const after = await burst(apis);
    expect(after.other).toEqual([]);
    expect(after.answered).toBe(BURST);
    await expectNoIndexTwice();
  });
});
