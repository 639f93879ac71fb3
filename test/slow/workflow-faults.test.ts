/**
 * The SKA workflow with real processes and real faults: API processes (`src/server.ts`, worker off) and
 * worker processes (`src/worker.ts`) on one fresh database and a private redis-server, driven over HTTP.
 *
 * (a) a worker is SIGKILLed while approved requests run; a new worker finishes them;
 * (b) Redis is emptied (FLUSHALL) while requests wait, once with no worker running (re-arm at start-up)
 *     and once behind a stopped (SIGSTOP) worker (the database sweep);
 * (c) two APIs and two workers; one of each is SIGKILLed under load, the client retries on the survivor.
 *
 * Exactly once is checked three ways: every accepted request ends EXECUTED, every result verifies
 * with the key's public key, and the key's use count (GET attributes, after the use counter flush)
 * equals the number of EXECUTED requests of that key (a second run of any operation would count twice).
 */
import { randomBytes, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApprover, rule, type TestApprover } from '../helpers/approvers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  approveOver,
  type ChildService,
  call,
  kill,
  listTasksOver,
  mapLimit,
  type PrivateRedis,
  sleep,
  startApi,
  startRedis,
  startWorker,
  stop,
  stopAll,
  tsb,
} from '../helpers/processes.js';

const PARTITION = 'faults';
const TERMINAL = new Set(['EXECUTED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED']);
/** a killed worker's claim is taken over after EXECUTION_LEASE_MS (30 s): allow for it and the sweep */
const RECOVERY_MS = 60_000;

interface Keys {
  management: string;
  operation: string;
  approver: string;
}

interface Tally {
  sent: number;
  accepted: number;
  completed: number;
  lost: number;
  doubled: number;
  [more: string]: number;
}

describe('SKA workflow under process faults', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let dataDir: string;
  let env: Record<string, string>;
  let keys: Keys;
  let api1: ChildService;
  const approverA = createApprover('P-256');
  const approverB = createApprover('Ed25519');
  const publicKeys = new Map<string, Buffer>();

  beforeAll(async () => {
    [db, redis, dataDir] = await Promise.all([
      createTestDatabase(),
      startRedis(),
      mkdtemp(path.join(tmpdir(), 'opentsb-faults-')),
    ]);
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      TSB_MASTER_KEY: randomBytes(32).toString('base64'),
      TSB_DATA_DIR: dataDir,
      TSB_QUEUE_PREFIX: 'faults',
      TSB_WORKFLOW_WORKER: 'false',
      TSB_WORKFLOW_SWEEP_MS: '500',
      // these APIs leave every decision to the workers' queue, whose faults (a) and (b) are about; an API that
      // runs the approvals it records (the default) is API 2 of (c) and the one with a worker in (d)
      TSB_APPROVAL_EXECUTION_WAIT_MS: '0',
    };
    await tsb(['partition', 'create', PARTITION], env);
    const apiKey = async (role: string) =>
      (await tsb(['apikey', 'create', '--partition', PARTITION, '--role', role], env)).trim();
    keys = {
      management: await apiKey('keyManagement'),
      operation: await apiKey('keyOperation'),
      approver: await apiKey('approver'),
    };
    api1 = await startApi('api1', env);
  });

  afterAll(async () => {
    await stopAll(3_000);
    await redis?.close();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const worker = (name: string) => startWorker(name, env);

  async function createSkaKey(
    label: string,
    quorum: number,
    approvers: TestApprover[],
    base = api1.url,
  ): Promise<void> {
    const created = await call(base, 'POST', '/v1/key', keys.management, {
      label,
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { decrypt: false, sign: true, unwrap: false },
      policy: { ruleUse: rule([{ quorum, approvers }]), keyStatus: { blocked: false } },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const attributes = await keyAttributes(base, label);
    publicKeys.set(label, Buffer.from(attributes.publicKey as string, 'base64'));
  }

  async function keyAttributes(base: string, label: string): Promise<Record<string, unknown>> {
    const answer = await call<{ json: Record<string, unknown> }>(
      base,
      'POST',
      '/v1/key/attributes',
      keys.management,
      { label },
    );
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    return answer.json.json;
  }

  interface Created {
    id: string;
    payload: string;
  }

  async function createRequest(base: string, label: string): Promise<Created> {
    const payload = randomBytes(32).toString('base64');
    const answer = await call<{ signRequestId: string }>(base, 'POST', '/v1/sign', keys.operation, {
      signRequest: { payload, signKeyName: label, signatureAlgorithm: 'SHA256_WITH_ECDSA' },
    });
    if (answer.status !== 201) throw new Error(`create: ${answer.status} ${JSON.stringify(answer.json)}`);
    return { id: answer.json.signRequestId, payload };
  }

  const createRequests = (label: string, count: number) =>
    mapLimit(Array.from({ length: count }), 8, () => createRequest(api1.url, label));

  async function approveAll(base: string, approver: TestApprover, ids: readonly string[]): Promise<void> {
    const wanted = new Set(ids);
    const tasks = (await listTasksOver(base, keys.approver, approver)).filter((task) =>
      wanted.has(task.requestId),
    );
    expect(tasks).toHaveLength(ids.length);
    await mapLimit(tasks, 4, async (task) => {
      const answer = await approveOver(base, keys.approver, approver, task);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    });
  }

  /** Waits until every request is in a terminal status (polling the database), then reads each over HTTP. */
  async function settle(
    base: string,
    requests: readonly Created[],
    timeoutMs = RECOVERY_MS,
  ): Promise<Map<string, Record<string, unknown>>> {
    const ids = requests.map((request) => request.id);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const open = await db.prisma.skaRequest.count({
        where: { id: { in: ids }, status: { in: ['PENDING', 'APPROVED'] } },
      });
      if (open === 0) break;
      await sleep(100);
    }
    const views = await mapLimit(ids, 8, async (id) => {
      const answer = await call(base, 'GET', `/v1/request/${id}`, keys.operation);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      return answer.json;
    });
    return new Map(ids.map((id, index) => [id, views[index]!]));
  }

  /** The key's use count once the workers' use counters have flushed (it stops changing). */
  async function settledUseCount(base: string, label: string, expected: number): Promise<number> {
    let last = -1;
    let stableSince = Date.now();
    const deadline = Date.now() + 5_000;
    for (;;) {
      const count = Number((await keyAttributes(base, label)).keyUsageCount);
      if (count !== last) {
        last = count;
        stableSince = Date.now();
      }
      // the counter flushes every 200 ms; a second without change means nothing is pending
      if ((count === expected && Date.now() - stableSince >= 300) || Date.now() - stableSince >= 1_000)
        return count;
      if (Date.now() > deadline) return count;
      await sleep(100);
    }
  }

  /**
   * Checks exactly-once for `label`: every request EXECUTED with a verifying signature, and the key's use
   * count equal to the number of EXECUTED requests of the key. Returns the tally (and prints it).
   */
  async function account(
    scenario: string,
    base: string,
    label: string,
    requests: readonly Created[],
    sent: number,
    extra: Record<string, number> = {},
  ): Promise<Tally> {
    const views = await settle(base, requests);
    const spki = publicKeys.get(label)!;
    let completed = 0;
    let badSignatures = 0;
    const notExecuted: string[] = [];
    for (const { id, payload } of requests) {
      const view = views.get(id)!;
      if (view['status'] !== 'EXECUTED') {
        notExecuted.push(`${id}: ${String(view['status'])} ${String(view['errorMessage'] ?? '')}`);
        continue;
      }
      completed++;
      const valid = verify(
        'sha256',
        Buffer.from(payload, 'base64'),
        { key: spki, format: 'der', type: 'spki' },
        Buffer.from(String(view['result']), 'base64'),
      );
      if (!valid) badSignatures++;
    }
    const executedOfKey = await db.prisma.skaRequest.count({
      where: { keyLabel: label, status: 'EXECUTED' },
    });
    const useCount = await settledUseCount(base, label, executedOfKey);
    const tally: Tally = {
      sent,
      accepted: requests.length,
      completed,
      lost: requests.length - completed,
      doubled: Math.max(0, useCount - executedOfKey),
      useCount,
      executedOfKey,
      badSignatures,
      ...extra,
    };
    console.log(
      `[workflow-faults ${scenario}] ${Object.entries(tally)
        .map(([name, value]) => `${name}=${value}`)
        .join(' ')}`,
    );
    expect(notExecuted, 'requests that did not end EXECUTED').toEqual([]);
    expect(tally.lost).toBe(0);
    expect(tally.doubled).toBe(0);
    expect(badSignatures).toBe(0);
    // fewer uses than results would mean a use the HSM did not count (lost with the killed process)
    expect(useCount).toBe(executedOfKey);
    return tally;
  }

  const statusCounts = async (ids: readonly string[]) => {
    const rows = await db.prisma.skaRequest.groupBy({
      by: ['status'],
      where: { id: { in: [...ids] } },
      _count: true,
    });
    return Object.fromEntries(rows.map((row) => [row.status, row._count]));
  };

  it('(a) a worker SIGKILLed mid-flow: a new worker finishes every request exactly once', async () => {
    const label = 'a-key';
    await createSkaKey(label, 1, [approverA]);
    const w1 = await worker('w1');
    const requests = await createRequests(label, 40);
    const ids = requests.map((request) => request.id);
    const tasks = await listTasksOver(api1.url, keys.approver, approverA);
    expect(tasks).toHaveLength(40);

    let approved = 0;
    let killed: Promise<void> | null = null;
    let executedAtKill = 0;
    await mapLimit(tasks, 4, async (task) => {
      const answer = await approveOver(api1.url, keys.approver, approverA, task);
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      // partway: executions of the first approvals are running in w1 right now
      if (++approved === 16) {
        killed = kill(w1);
        executedAtKill = await db.prisma.skaRequest.count({ where: { id: { in: ids }, status: 'EXECUTED' } });
      }
    });
    await killed;
    const beforeRestart = await statusCounts(ids);
    const w2 = await worker('w2');
    try {
      await account('a', api1.url, label, requests, requests.length, {
        approvedBeforeKill: 16,
        executedAtKill,
        executedBeforeRestart: beforeRestart['EXECUTED'] ?? 0,
        claimedBeforeRestart: beforeRestart['APPROVED'] ?? 0,
      });
    } finally {
      await stop(w2);
    }
  }, 120_000);

  it('(b) Redis emptied with requests pending: re-arm and the sweep recover every lost job', async () => {
    await createSkaKey('b-one', 1, [approverA]);
    await createSkaKey('b-two', 2, [approverA, approverB]);

    // no worker runs: approvals only queue jobs
    const one = await createRequests('b-one', 12);
    const two = await createRequests('b-two', 12);
    await approveAll(
      api1.url,
      approverA,
      one.map((r) => r.id),
    );
    await approveAll(
      api1.url,
      approverA,
      two.map((r) => r.id),
    ); // half-approved
    await approveAll(
      api1.url,
      approverB,
      two.slice(0, 6).map((r) => r.id),
    ); // approved, job pending
    const waiting = await statusCounts([...one, ...two].map((r) => r.id));
    expect(waiting).toEqual({ PENDING: 24 });
    const jobsBefore = await redis.client.dbsize();
    await redis.client.flushall();
    expect(await redis.client.dbsize()).toBe(0);

    // a new worker re-arms from the database; the rest of the approvals arrive afterwards
    const w3 = await worker('w3');
    try {
      await redisLoss(one, two, jobsBefore, w3);
    } finally {
      await stop(w3);
    }
  }, 120_000);

  async function redisLoss(one: Created[], two: Created[], jobsBefore: number, w3: ChildService) {
    await approveAll(
      api1.url,
      approverB,
      two.slice(6).map((r) => r.id),
    );
    const tallyOne = await account('b re-arm, 1-of-1', api1.url, 'b-one', one, one.length, {
      redisKeysFlushed: jobsBefore,
    });
    const tallyTwo = await account('b re-arm, 2-of-2', api1.url, 'b-two', two, two.length);
    expect(tallyOne.completed + tallyTwo.completed).toBe(24);

    // jobs lost behind a running (but frozen) worker: only the database sweep can find them
    const three = await createRequests('b-one', 10);
    w3.child.kill('SIGSTOP');
    try {
      await approveAll(
        api1.url,
        approverA,
        three.map((r) => r.id),
      );
      await redis.client.flushall();
    } finally {
      w3.child.kill('SIGCONT');
    }
    await account('b sweep', api1.url, 'b-one', [...one, ...three], one.length + three.length);
  }

  it('(c) two APIs and two workers, one of each SIGKILLed under load: every request runs exactly once', async () => {
    const label = 'c-key';
    await createSkaKey(label, 1, [approverA]);
    const [api2, w4, w5] = await Promise.all([
      startApi('api2', { ...env, TSB_APPROVAL_EXECUTION_WAIT_MS: '2000' }),
      worker('w4'),
      worker('w5'),
    ]);
    try {
      await twoOfEach(label, api2, w4, w5);
    } finally {
      await Promise.all([stop(api2), stop(w5)]);
    }
  }, 120_000);

  async function twoOfEach(label: string, api2: ChildService, w4: ChildService, w5: ChildService) {
    // across processes: created on API 1, approved through API 2, which runs it itself (approvals through API 1
    // are left to either worker)
    const first = await createRequest(api1.url, label);
    const [task] = await listTasksOver(api2.url, keys.approver, approverA, { requestId: first.id });
    expect((await approveOver(api2.url, keys.approver, approverA, task!)).status).toBe(200);
    await account('c cross-API', api2.url, label, [first], 1);

    // the load: a client that retries every step on the other API when one does not answer
    const apis = [api1, api2];
    const live = () => apis.filter((api) => api.alive());
    let retries = 0;
    async function attempt<T>(step: (base: string) => Promise<T>, preferred: number): Promise<T> {
      const deadline = Date.now() + RECOVERY_MS;
      for (let round = 0; ; round++) {
        const candidates = live();
        const api = candidates[(preferred + round) % candidates.length]!;
        try {
          return await step(api.url);
        } catch (error) {
          if (Date.now() > deadline) throw error;
          retries++;
          await sleep(50);
        }
      }
    }
    const OPS = 60;
    const accepted: Created[] = [];
    let sent = 0;
    let completedOps = 0;
    let killing: Promise<unknown> | null = null;
    const flow = async (_: unknown, index: number) => {
      sent++;
      const created = await attempt((base) => createRequest(base, label), index);
      accepted.push(created);
      await attempt(async (base) => {
        const [own] = await listTasksOver(base, keys.approver, approverA, { requestId: created.id });
        if (!own) return; // decided already (an approval whose answer was lost)
        const answer = await approveOver(base, keys.approver, approverA, own);
        if (answer.status !== 200 && answer.status !== 409)
          throw new Error(`approve: ${answer.status} ${JSON.stringify(answer.json)}`);
      }, index + 1);
      await attempt(async (base) => {
        const deadline = Date.now() + RECOVERY_MS;
        for (;;) {
          const answer = await call(base, 'GET', `/v1/request/${created.id}`, keys.operation);
          if (answer.status !== 200) throw new Error(`status: ${answer.status}`);
          if (TERMINAL.has(String(answer.json['status']))) return;
          if (Date.now() > deadline) return;
          await sleep(20);
        }
      }, index);
      // API 2 runs the approvals it records: killed, it leaves claims that a worker's sweep takes over
      if (++completedOps === 20) killing = Promise.all([kill(w4), kill(api2)]);
    };
    await mapLimit(Array.from({ length: OPS }), 8, flow);
    await killing;
    expect(api2.alive()).toBe(false);
    const all = await db.prisma.skaRequest.findMany({
      where: { keyLabel: label },
      select: { id: true, status: true },
    });
    const known = new Set([first.id, ...accepted.map((r) => r.id)]);
    // a create whose answer was lost with API 2 leaves a request nobody approves (the client made a new one)
    const orphans = all.filter((request) => !known.has(request.id));
    expect(orphans.every((request) => request.status === 'PENDING')).toBe(true);
    await account('c two APIs', api1.url, label, [first, ...accepted], sent + 1, {
      retries,
      orphanedCreates: orphans.length,
    });
    expect(w5.alive()).toBe(true);
  }

  it('(d) SIGTERM under load: API (worker in-process) and worker exit at once and cleanly, no claim left behind', async () => {
    const label = 'd-key';
    const [apiWithWorker, apiOnly, w6] = await Promise.all([
      startApi('api-with-worker', {
        ...env,
        TSB_WORKFLOW_WORKER: 'true',
        TSB_APPROVAL_EXECUTION_WAIT_MS: '2000',
      }),
      startApi('api-only', env),
      worker('w6'),
    ]);
    try {
      await createSkaKey(label, 1, [approverA], apiOnly.url);
      const requests = await mapLimit(Array.from({ length: 40 }), 8, () => createRequest(apiOnly.url, label));
      const tasks = await listTasksOver(apiOnly.url, keys.approver, approverA);
      let approved = 0;
      const stopping: Promise<{ name: string; ms: number }>[] = [];
      const graceful = (service: ChildService) => {
        const began = Date.now();
        return stop(service, 20_000).then(() => ({ name: service.name, ms: Date.now() - began }));
      };
      await mapLimit(tasks, 4, async (task) => {
        // through the API that runs the worker until it is told to stop (as a load balancer would, no
        // request follows SIGTERM there: the keep-alive connections of those in flight stay open, idle)
        const viaWorkerApi = stopping.length === 0;
        let answer = viaWorkerApi
          ? await approveOver(apiWithWorker.url, keys.approver, approverA, task).catch(() => null)
          : null;
        if (answer === null || answer.status === 503)
          answer = await approveOver(apiOnly.url, keys.approver, approverA, task);
        expect([200, 409], JSON.stringify(answer.json)).toContain(answer.status);
        approved++;
        if (approved === 12) stopping.push(graceful(apiWithWorker));
        if (approved === 24) stopping.push(graceful(w6));
      });
      const stopped = await Promise.all(stopping);
      const complaints = (service: ChildService) =>
        service.output.filter((line) => /"level":(40|50|60)|killed by timeout|Error/.test(line));
      for (const service of [apiWithWorker, w6]) {
        expect(service.child.exitCode, `${service.name}:\n${service.output.join('\n')}`).toBe(0);
        expect(complaints(service), service.name).toEqual([]);
      }
      // a graceful stop lets running executions finish: no claim waits for its lease to run out
      const stale = await db.prisma.skaRequest.count({
        where: { keyLabel: label, status: 'APPROVED', executionClaimedAt: { not: null } },
      });
      expect(stale).toBe(0);
      const w7 = await worker('w7');
      try {
        const began = Date.now();
        await account('d graceful stop', apiOnly.url, label, requests, requests.length, {
          apiStopMs: stopped[0]!.ms,
          workerStopMs: stopped[1]!.ms,
          staleClaims: stale,
        });
        expect(Date.now() - began).toBeLessThan(20_000);
      } finally {
        await stop(w7);
      }
      for (const { name, ms } of stopped) expect(ms, name).toBeLessThan(5_000);
    } finally {
      await Promise.all([stop(apiWithWorker), stop(apiOnly), stop(w6)]);
    }
  }, 120_000);
});
