/**
 * The key-use count across SIGKILL, on the real API process: bursts of concurrent signs, the process
 * killed while the answers are arriving (after the first answer, after a fifth, after most) and restarted,
 * and after each kill every signature that was answered must be counted in the database. The count may
 * exceed the answers by uses that were committed while their answer was still on its way (they happened;
 * the client just never heard), never fall short of them. USE_COUNT_BURST sets the burst (default 200).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { type ChildService, call, kill, startApi, stopAll, tsb } from '../helpers/processes.js';

const PARTITION = 'counted';
const BURST = Number(process.env.USE_COUNT_BURST ?? 200);
/** answers received before each kill */
const KILL_AFTER = [1, Math.ceil(BURST / 5), Math.ceil((BURST * 3) / 5)];

describe('key use count across SIGKILL of the API', () => {
  let db: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  let api: ChildService;
  let operationKey: string;

  beforeAll(async () => {
    [db, dataDir] = await Promise.all([
      createTestDatabase(),
      mkdtemp(path.join(tmpdir(), 'opentsb-use-count-')),
    ]);
    env = {
      DATABASE_URL: db.url,
      TSB_MASTER_KEY: randomBytes(32).toString('base64'),
      TSB_DATA_DIR: dataDir,
      TSB_QUEUE_PREFIX: `use-count-${randomBytes(6).toString('hex')}`,
      TSB_WORKFLOW_WORKER: 'false',
    };
    await tsb(['partition', 'create', PARTITION], env);
    const [management, operation] = await Promise.all(
      ['keyManagement', 'keyOperation'].map(async (role) =>
        (await tsb(['apikey', 'create', '--partition', PARTITION, '--role', role], env)).trim(),
      ),
    );
    operationKey = operation!;
    api = await startApi('use-count-api', env);
    const created = await call(api.url, 'POST', '/v1/key', management!, {
      label: 'counted',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { sign: true, decrypt: false, unwrap: false },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await stopAll(3_000);
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** One burst, SIGKILL after `killAfter` answers 200; answers what the client saw and what is stored. */
  async function burstThenKill(killAfter: number) {
    const before = await storedUseCount();
    let answered = 0;
    let killing: Promise<void> | null = null;
    const outcomes = await Promise.all(
      Array.from({ length: BURST }, async () => {
        try {
          const answer = await call(api.url, 'POST', '/v1/synchronousSign', operationKey, {
            signRequest: {
              payload: randomBytes(32).toString('base64'),
              signKeyName: 'counted',
              signatureAlgorithm: 'SHA256_WITH_ECDSA',
            },
          });
          if (answer.status === 200 && ++answered === killAfter) killing = kill(api);
          return answer.status;
        } catch {
          return 'cut' as const;
        }
      }),
    );
    await killing;
    return {
      killed: killing !== null,
      answered: outcomes.filter((outcome) => outcome === 200).length,
      cut: outcomes.filter((outcome) => outcome === 'cut').length,
      other: outcomes.filter((outcome) => outcome !== 200 && outcome !== 'cut'),
      counted: (await storedUseCount()) - before,
    };
  }

  const storedUseCount = async () =>
    Number((await db.prisma.key.findFirstOrThrow({ where: { label: 'counted' } })).useCount);

  it('has counted every answered signature each time the process is killed mid-burst', async () => {
    const port = Number(new URL(api.url).port);
    for (const [round, killAfter] of KILL_AFTER.entries()) {
      if (round > 0) api = await startApi('use-count-api', env, { port });
      const { killed, answered, cut, other, counted } = await burstThenKill(killAfter);
      console.log(
        `[use-count-sigkill] kill after ${killAfter}: sent=${BURST} answered200=${answered} cut=${cut} ` +
          `other=${other.length} counted=${counted} (counted, not answered: ${counted - answered})`,
      );
      expect(killed, 'the burst ended before the kill').toBe(true);
      expect(cut, 'the kill must cut requests in flight').toBeGreaterThan(0);
      expect(other).toEqual([]);
      expect(counted, 'every answered signature is counted').toBeGreaterThanOrEqual(answered);
      expect(counted).toBeLessThanOrEqual(BURST);
    }
  });
});
