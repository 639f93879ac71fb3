/**
 * The key-use count across SIGKILL, on the real API process: BURST concurrent callers signing back to back,
 * the process killed while the answers are arriving (after the first answer, after a fifth, after most of
 * BURST) and restarted, and after each kill every signature that was answered must be counted in the
 * database. The count may exceed the answers by uses that were committed while their answer was still on its
 * way (they happened; the client just never heard), never fall short of them. USE_COUNT_BURST sets the
 * callers (default 200).
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

  /**
   * BURST callers, each signing again as soon as its answer came, until the API is SIGKILLed after `killAfter`
   * answers 200 (a stream rather than one burst: one group commit answers many requests at once, and a burst
   * could be answered whole before the kill lands); answers what the clients saw and what is stored.
   */
  async function streamThenKill(killAfter: number) {
    const before = await storedUseCount();
    const loggedBefore = await loggedSigns();
    let sent = 0;
    let answered = 0;
    let cut = 0;
    const other: unknown[] = [];
    let killing: Promise<void> | null = null;
    await Promise.all(
      Array.from({ length: BURST }, async () => {
        while (killing === null) {
          sent++;
          let status: number;
          try {
            status = (
              await call(api.url, 'POST', '/v1/synchronousSign', operationKey, {
                signRequest: {
                  payload: randomBytes(32).toString('base64'),
                  signKeyName: 'counted',
                  signatureAlgorithm: 'SHA256_WITH_ECDSA',
                },
              })
            ).status;
          } catch {
            cut++;
            return;
          }
          if (status !== 200) other.push(status);
          else if (++answered === killAfter) killing = kill(api);
        }
      }),
    );
    await killing;
    return {
      killed: killing !== null,
      sent,
      answered,
      cut,
      other,
      counted: (await storedUseCount()) - before,
      logged: (await loggedSigns()) - loggedBefore,
    };
  }

  const storedUseCount = async () =>
    Number((await db.prisma.key.findFirstOrThrow({ where: { label: 'counted' } })).useCount);

  /** The audit entries of signatures made (the entry commits in the statement that adds the use). */
  const loggedSigns = () =>
    db.prisma.auditEntry.count({
      where: { action: 'POST /v1/synchronousSign', statusCode: 200, keyLabel: 'counted' },
    });

  it('has counted every answered signature each time the process is killed mid-burst', async () => {
    const port = Number(new URL(api.url).port);
    for (const [round, killAfter] of KILL_AFTER.entries()) {
      if (round > 0) api = await startApi('use-count-api', env, { port });
      const { killed, sent, answered, cut, other, counted, logged } = await streamThenKill(killAfter);
      console.log(
        `[use-count-sigkill] kill after ${killAfter}: sent=${sent} answered200=${answered} cut=${cut} ` +
          `other=${other.length} counted=${counted} logged=${logged} (counted, not answered: ${counted - answered})`,
      );
      expect(killed, 'the callers stopped before the kill').toBe(true);
      expect(cut, 'the kill must cut requests in flight').toBeGreaterThan(0);
      expect(other).toEqual([]);
      expect(counted, 'every answered signature is counted').toBeGreaterThanOrEqual(answered);
      expect(counted).toBeLessThanOrEqual(sent);
      // the kill cuts no statement in half: every counted use has its entry, every entry its use
      expect(logged, 'audit entries of signatures made = uses counted').toBe(counted);
    }
  });
});
