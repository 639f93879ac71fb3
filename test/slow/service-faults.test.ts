/**
 * Chaos under load (`npm run test:chaos`; `npm run test:slow` runs it short): this test process is the client,
 * sending synchronous signs and whole approval flows without pause to an API process and a worker process,
 * which use a private redis-server and reach PostgreSQL through a TCP proxy the test can block. While the load
 * runs: the API is SIGKILLed and restarted, then the worker, then Redis is restarted empty, then the database
 * port is blocked for a few seconds. During the database outage the service must answer 503 and /readyz say
 * why; afterwards every accepted request must have run exactly once, every approval that was answered 200 must
 * be stored, every signature must verify and be counted in its key's use count — with no manual step, only the
 * restarts a supervisor would make.
 * CHAOS_PHASE_SECONDS (default 4) sets how long the load runs between faults.
 */
import { randomBytes, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApprover, rule } from '../helpers/approvers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  approveOver,
  type ChildService,
  call,
  kill,
  listTasksOver,
  type PrivateRedis,
  sleep,
  startApi,
  startRedis,
  startWorker,
  stopAll,
  tsb,
} from '../helpers/processes.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const PARTITION = 'chaos';
const PHASE_MS = Number(process.env.CHAOS_PHASE_SECONDS ?? 4) * 1_000;
const DATABASE_OUTAGE_MS = 5_000;
const TERMINAL = new Set(['EXECUTED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED']);
/** a killed worker's claim is taken over after its 30 s lease; the sweep then runs it */
const RECOVERY_MS = 90_000;
const P256 = '1.2.840.10045.3.1.7';

interface SignAttempt {
  payload: string;
  status: number | 'network';
  errorCode?: number;
  signature?: string;
}

interface Flow {
  id: string;
  payload: string;
  /** the approval was answered 200 during the run */
  approvalAnswered: boolean;
}

describe('the service under load while its processes, Redis and the database fail', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let proxy: TcpProxy;
  let dataDir: string;
  let env: Record<string, string>;
  let api: ChildService;
  let worker: ChildService;
  let apiPort: number;
  const approver = createApprover('P-256');
  const keys = { management: '', operation: '', approver: '' };
  const publicKeys = new Map<string, Buffer>();

  beforeAll(async () => {
    [db, redis, dataDir] = await Promise.all([
      createTestDatabase(),
      startRedis(),
      mkdtemp(path.join(tmpdir(), 'opentsb-chaos-')),
    ]);
    const direct = new URL(db.url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(db.url);
    proxied.port = String(proxy.port);
    env = {
      DATABASE_URL: proxied.toString(),
      REDIS_URL: redis.url,
      TSB_MASTER_KEY: randomBytes(32).toString('base64'),
      TSB_DATA_DIR: dataDir,
      TSB_QUEUE_PREFIX: 'chaos',
      TSB_WORKFLOW_WORKER: 'false',
      TSB_WORKFLOW_SWEEP_MS: '500',
    };
    await tsb(['partition', 'create', PARTITION], env);
    for (const role of ['management', 'operation', 'approver'] as const) {
      const name = { management: 'keyManagement', operation: 'keyOperation', approver: 'approver' }[role];
      keys[role] = (await tsb(['apikey', 'create', '--partition', PARTITION, '--role', name], env)).trim();
    }
    api = await startApi('chaos-api', env);
    apiPort = Number(new URL(api.url).port);
    worker = await startWorker('chaos-worker', env);
    for (const [label, policy] of [
      ['plain', undefined],
      [
        'ska',
        {
          ruleUse: rule([{ quorum: 1, approvers: [approver] }]),
          ruleBlock: null,
          ruleUnblock: null,
          ruleModify: null,
          keyStatus: { blocked: false },
        },
      ],
    ] as const) {
      const created = await call<{ json: { publicKey: string } }>(
        api.url,
        'POST',
        '/v1/key',
        keys.management,
        {
          label,
          algorithm: 'EC',
          curveOid: P256,
          attributes: { sign: true, decrypt: false, unwrap: false },
          ...(policy ? { policy } : {}),
        },
      );
      expect(created.status, JSON.stringify(created.json)).toBe(201);
      publicKeys.set(label, Buffer.from(created.json.json.publicKey, 'base64'));
    }
  }, 180_000);

  afterAll(async () => {
    await stopAll(3_000);
    await proxy?.close();
    await redis?.close();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const verifies = (label: string, payload: string, signature: string) =>
    verify(
      'sha256',
      Buffer.from(payload, 'base64'),
      { key: publicKeys.get(label)!, format: 'der', type: 'spki' },
      Buffer.from(signature, 'base64'),
    );

  it('loses nothing, runs nothing twice, answers 503 while the database is away, and recovers by itself', async () => {
    const base = () => `http://127.0.0.1:${apiPort}`;
    const signs: SignAttempt[] = [];
    const flows: Flow[] = [];
    let flowAttempts = 0;
    let unexpected: string[] = [];
    let running = true;

    const signLane = async () => {
      while (running) {
        const payload = randomBytes(24).toString('base64');
        try {
          const answer = await call<{ signature?: string; errorCode?: number }>(
            base(),
            'POST',
            '/v1/synchronousSign',
            keys.operation,
            { signRequest: { payload, signKeyName: 'plain', signatureAlgorithm: 'SHA256_WITH_ECDSA' } },
            5_000,
          );
          signs.push({
            payload,
            status: answer.status,
            ...(answer.json.signature ? { signature: answer.json.signature } : {}),
            ...(answer.json.errorCode !== undefined ? { errorCode: answer.json.errorCode } : {}),
          });
        } catch {
          signs.push({ payload, status: 'network' });
          await sleep(100);
        }
      }
    };
    const flowLane = async () => {
      while (running) {
        const payload = randomBytes(24).toString('base64');
        flowAttempts++;
        try {
          const created = await call<{ signRequestId?: string }>(
            base(),
            'POST',
            '/v1/sign',
            keys.operation,
            { signRequest: { payload, signKeyName: 'ska', signatureAlgorithm: 'SHA256_WITH_ECDSA' } },
            5_000,
          );
          if (created.status !== 201) {
            if (created.status >= 500 && created.status !== 503) unexpected.push(`create ${created.status}`);
            await sleep(100);
            continue;
          }
          const flow: Flow = { id: created.json.signRequestId!, payload, approvalAnswered: false };
          flows.push(flow);
          const [task] = await listTasksOver(base(), keys.approver, approver, { requestId: flow.id });
          if (task) {
            const approved = await approveOver(base(), keys.approver, approver, task);
            flow.approvalAnswered = approved.status === 200;
            if (approved.status >= 500 && approved.status !== 503)
              unexpected.push(`approve ${approved.status}`);
          }
        } catch {
          await sleep(100);
        }
      }
    };
    const lanes = [signLane(), signLane(), signLane(), flowLane(), flowLane()];
    const faults: Record<string, unknown> = {};

    await sleep(PHASE_MS);
    await kill(api);
    await sleep(1_000);
    api = await startApi('chaos-api-2', env, { port: apiPort });
    faults.apiRestarted = true;

    await sleep(PHASE_MS);
    await kill(worker);
    await sleep(1_000);
    worker = await startWorker('chaos-worker-2', env);
    faults.workerRestarted = true;

    await sleep(PHASE_MS);
    const redisPort = redis.port;
    redis.client.disconnect();
    await kill(redis.service);
    await sleep(1_000);
    redis = await startRedis(redisPort);
    faults.redisRestartedEmpty = (await redis.client.dbsize()) >= 0;

    await sleep(PHASE_MS);
    proxy.block();
    await sleep(1_500);
    const readyDuringOutage = await call<{ status: string; checks: { database: string } }>(
      base(),
      'GET',
      '/readyz',
      keys.operation,
    );
    const requestDuringOutage = await call<{ errorCode?: number; message?: string }>(
      base(),
      'POST',
      '/v1/key/attributes',
      keys.management,
      { label: 'plain' },
    );
    await sleep(DATABASE_OUTAGE_MS - 1_500);
    proxy.unblock();
    faults.databaseBlockedMs = DATABASE_OUTAGE_MS;

    await sleep(PHASE_MS);
    running = false;
    await Promise.all(lanes);

    expect(readyDuringOutage.status).toBe(503);
    expect(readyDuringOutage.json.status).toBe('unavailable');
    expect(readyDuringOutage.json.checks.database).toMatch(/^unreachable/);
    expect(requestDuringOutage.status).toBe(503);
    expect(requestDuringOutage.json.errorCode).toBe(2);
    expect(requestDuringOutage.json.message).toMatch(/database|audit log/);

    // the service came back by itself: the same API and worker processes serve again
    const after = await call(base(), 'GET', '/readyz', keys.operation);
    expect(after.status).toBe(200);

    // every accepted flow gets its approval (again, if the first answer was lost) and must end EXECUTED once
    for (const flow of flows) {
      const deadline = Date.now() + RECOVERY_MS;
      for (;;) {
        try {
          const [task] = await listTasksOver(base(), keys.approver, approver, { requestId: flow.id });
          if (task) await approveOver(base(), keys.approver, approver, task);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await sleep(200);
        }
      }
    }
    const views = new Map<string, Record<string, unknown>>();
    const deadline = Date.now() + RECOVERY_MS;
    for (const flow of flows) {
      for (;;) {
        const view = await call(base(), 'GET', `/v1/request/${flow.id}`, keys.operation);
        if (view.status === 200 && TERMINAL.has(String(view.json.status))) {
          views.set(flow.id, view.json);
          break;
        }
        if (Date.now() > deadline)
          throw new Error(`request ${flow.id} not terminal: ${JSON.stringify(view.json)}`);
        await sleep(200);
      }
    }
    const executed = flows.filter((flow) => views.get(flow.id)?.status === 'EXECUTED');
    const badFlowSignatures = executed.filter(
      (flow) => !verifies('ska', flow.payload, String(views.get(flow.id)!.result)),
    );
    const skaKey = await db.prisma.key.findFirstOrThrow({ where: { label: 'ska' } });
    const plainKey = await db.prisma.key.findFirstOrThrow({ where: { label: 'plain' } });
    const answeredApprovals = flows.filter((flow) => flow.approvalAnswered);
    const storedApprovals = await db.prisma.approvalTask.count({
      where: { requestId: { in: answeredApprovals.map((flow) => flow.id) }, decision: 'APPROVED' },
    });

    const accepted = signs.filter((sign) => sign.status === 200);
    const badSignatures = accepted.filter(
      (sign) => !sign.signature || !verifies('plain', sign.payload, sign.signature),
    );
    const refused = signs.filter((sign) => sign.status !== 200 && sign.status !== 'network');
    unexpected = [
      ...unexpected,
      ...refused
        .filter((sign) => sign.status !== 503 || sign.errorCode !== 2)
        .map((sign) => `sign ${sign.status} errorCode ${sign.errorCode}`),
    ];
    const tally = {
      signsSent: signs.length,
      signsAccepted: accepted.length,
      signs503: refused.filter((sign) => sign.status === 503).length,
      signsUnreachable: signs.filter((sign) => sign.status === 'network').length,
      badSignatures: badSignatures.length,
      flowsSent: flowAttempts,
      flowsAccepted: flows.length,
      flowsCompleted: executed.length,
      flowsLost: flows.length - executed.length,
      flowsDoubled: Math.max(0, Number(skaKey.useCount) - executed.length),
      skaUseCount: Number(skaKey.useCount),
      // at least the signs answered 200 (every answered use is committed first), at most those sent
      plainUseCount: Number(plainKey.useCount),
      approvalsAnswered: answeredApprovals.length,
      approvalsStored: storedApprovals,
    };
    console.log(
      `[service-faults] ${Object.entries({ ...tally, ...faults })
        .map(([name, value]) => `${name}=${value}`)
        .join(' ')}`,
    );
    expect(unexpected, 'answers other than 2xx, 4xx or a 503 with errorCode 2').toEqual([]);
    expect(tally.signsAccepted).toBeGreaterThan(0);
    expect(tally.flowsAccepted).toBeGreaterThan(0);
    expect(badSignatures).toEqual([]);
    expect(badFlowSignatures).toEqual([]);
    expect(tally.flowsLost).toBe(0);
    expect(Number(skaKey.useCount)).toBe(executed.length);
    expect(tally.plainUseCount, 'every answered signature is counted').toBeGreaterThanOrEqual(
      tally.signsAccepted,
    );
    expect(tally.plainUseCount).toBeLessThanOrEqual(tally.signsSent);
    expect(storedApprovals).toBe(answeredApprovals.length);
  });
});
