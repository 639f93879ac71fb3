/**
 * SIGTERM with work in flight, on real processes: the API (its workflow worker inside) and a separate
 * worker stop accepting, answer the HTTP request that is still arriving, and finish the workflow job they
 * are running (a webhook call the receiver holds for seconds) before they close the database and Redis
 * and exit 0. (The load variant, many requests at once and no claim left behind, is scenario (d) of
 * workflow-faults.test.ts.)
 */
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../../src/features/approvals/queue.js';
import { createApprover, rule } from '../helpers/approvers.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import {
  type ChildService,
  call,
  freePort,
  type PrivateRedis,
  sleep,
  startApi,
  startRedis,
  startWorker,
  stopAll,
  tsb,
} from '../helpers/processes.js';

const PARTITION = 'shutdown';
/** how long the webhook receiver holds each call: the job runs that long (the notifier gives up after 5 s) */
const HOLD_MS = 2_500;
const PREFIX = 'shutdown';

interface HeldCall {
  requestId: string;
  event: string;
  receivedAt: number;
  answeredAt: number | null;
}

/** A webhook receiver that answers every call HOLD_MS late. */
async function startWebhook(): Promise<{ url: string; calls: HeldCall[]; server: Server }> {
  const calls: HeldCall[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { requestId: string; event: string };
      const held: HeldCall = { ...body, receivedAt: Date.now(), answeredAt: null };
      calls.push(held);
      setTimeout(() => {
        response.writeHead(200).end('ok', () => {
          held.answeredAt = Date.now();
        });
      }, HOLD_MS);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/hook`, calls, server };
}

/**
 * A POST whose body arrives in two parts: the headers and the first part now, the rest on `finish()`;
 * the request is in flight on the server in between.
 */
function slowPost(base: string, route: string, apiKey: string, body: object) {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  const url = new URL(route, base);
  let resolveAnswer: (answer: { status: number; json: Record<string, unknown> }) => void;
  let rejectAnswer: (error: Error) => void;
  const answer = new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    resolveAnswer = resolve;
    rejectAnswer = reject;
  });
  const request = httpRequest(
    {
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': bytes.length, 'x-api-key': apiKey },
    },
    (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolveAnswer({
          status: response.statusCode ?? 0,
          json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        }),
      );
    },
  );
  request.on('error', (error) => rejectAnswer(error));
  const half = Math.floor(bytes.length / 2);
  request.write(bytes.subarray(0, half));
  return {
    answer,
    finish: () => {
      request.end(bytes.subarray(half));
      return answer;
    },
  };
}

/** Whether a new TCP connection to the service is refused. */
async function refusesConnections(base: string): Promise<boolean> {
  try {
    await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1_000) });
    return false;
  } catch {
    return true;
  }
}

async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('graceful shutdown with work in flight', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let dataDir: string;
  let webhook: Awaited<ReturnType<typeof startWebhook>>;
  let env: Record<string, string>;
  let keys: { management: string; operation: string };
  let queue: Queue;
  const approver = createApprover('P-256');

  beforeAll(async () => {
    [db, redis, dataDir, webhook] = await Promise.all([
      createTestDatabase(),
      startRedis(),
      mkdtemp(path.join(tmpdir(), 'opentsb-shutdown-')),
      startWebhook(),
    ]);
    env = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      TSB_MASTER_KEY: randomBytes(32).toString('base64'),
      TSB_DATA_DIR: dataDir,
      TSB_QUEUE_PREFIX: PREFIX,
      TSB_WORKFLOW_WORKER: 'false',
    };
    await tsb(['partition', 'create', PARTITION], env);
    await tsb(['partition', 'webhook', PARTITION, '--url', webhook.url], env);
    const apiKey = async (role: string) =>
      (await tsb(['apikey', 'create', '--partition', PARTITION, '--role', role], env)).trim();
    keys = { management: await apiKey('keyManagement'), operation: await apiKey('keyOperation') };
    queue = new Queue(QUEUE_NAME, { connection: { url: redis.url }, prefix: PREFIX });
  });

  afterAll(async () => {
    await stopAll(3_000);
    await queue?.close();
    await new Promise((resolve) => webhook?.server.close(resolve));
    await redis?.close();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function createKeys(base: string, suffix: string): Promise<void> {
    const bodies = [
      {
        label: `plain-${suffix}`,
        algorithm: 'EC',
        curveOid: '1.2.840.10045.3.1.7',
        attributes: { decrypt: false, sign: true, unwrap: false },
      },
      {
        label: `ska-${suffix}`,
        algorithm: 'EC',
        curveOid: '1.2.840.10045.3.1.7',
        attributes: { decrypt: false, sign: true, unwrap: false },
        policy: { ruleUse: rule([{ quorum: 1, approvers: [approver] }]), keyStatus: { blocked: false } },
      },
    ];
    for (const body of bodies) {
      const created = await call(base, 'POST', '/v1/key', keys.management, body);
      expect(created.status, JSON.stringify(created.json)).toBe(201);
    }
  }

  /** Creates an SKA request: its "tasks created" webhook call is a job the worker runs for HOLD_MS. */
  async function startHeldJob(base: string, suffix: string): Promise<{ requestId: string; jobId: string }> {
    const created = await call<{ signRequestId: string }>(base, 'POST', '/v1/sign', keys.operation, {
      signRequest: {
        payload: randomBytes(32).toString('base64'),
        signKeyName: `ska-${suffix}`,
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
      },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const requestId = created.json.signRequestId;
    await until('the webhook call', () => webhook.calls.some((held) => held.requestId === requestId));
    return { requestId, jobId: `notify-${requestId}-created` };
  }

  async function publicKeyOf(base: string, label: string) {
    const answer = await call<{ json: { publicKey: string } }>(
      base,
      'POST',
      '/v1/key/attributes',
      keys.management,
      {
        label,
      },
    );
    return createPublicKey({
      key: Buffer.from(answer.json.json.publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
  }

  /** The process exited 0 after the held webhook call was answered, and its job is done, not left active. */
  async function expectJobFinished(
    service: ChildService,
    requestId: string,
    jobId: string,
    exitedAt: number,
  ) {
    expect(service.child.exitCode, `${service.name}:\n${service.output.join('\n')}`).toBe(0);
    const held = webhook.calls.filter((call) => call.requestId === requestId);
    expect(held).toHaveLength(1);
    expect(held[0]!.answeredAt, 'the webhook call was answered').not.toBeNull();
    expect(exitedAt).toBeGreaterThanOrEqual(held[0]!.answeredAt!);
    // completed jobs are removed: one still there would be active (interrupted) or waiting for a retry
    expect(await queue.getJob(jobId)).toBeUndefined();
    const counts = await queue.getJobCounts('active', 'waiting', 'failed');
    expect(counts).toEqual({ active: 0, waiting: 0, failed: 0 });
    const complaints = service.output.filter((line) => /"level":(40|50|60)|killed by timeout/.test(line));
    expect(complaints, service.name).toEqual([]);
  }

  it('the API answers the request still arriving and its worker finishes its job before it exits', async () => {
    const api = await startApi('api-with-worker', { ...env, TSB_WORKFLOW_WORKER: 'true', LOG_LEVEL: 'info' });
    await createKeys(api.url, 'a');
    const payload = randomBytes(32);
    const inFlight = slowPost(api.url, '/v1/synchronousSign', keys.operation, {
      signRequest: {
        payload: payload.toString('base64'),
        signKeyName: 'plain-a',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
      },
    });
    const publicKey = await publicKeyOf(api.url, 'plain-a');
    const { requestId, jobId } = await startHeldJob(api.url, 'a');

    const signalledAt = Date.now();
    api.child.kill('SIGTERM');
    const exited = api.exited.then(() => Date.now());
    await until('the listener to close', () => refusesConnections(api.url), 5_000);
    expect(api.alive(), 'still running its request and its job').toBe(true);

    const answer = await inFlight.finish();
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const signature = Buffer.from(answer.json.signature as string, 'base64');
    expect(verify('sha256', payload, publicKey, signature)).toBe(true);

    const exitedAt = await exited;
    expect(exitedAt - signalledAt).toBeGreaterThanOrEqual(HOLD_MS - 500);
    expect(exitedAt - signalledAt).toBeLessThan(8_000);
    await expectJobFinished(api, requestId, jobId, exitedAt);
  }, 120_000);

  it('a separate worker finishes its running job before it exits, and serves /readyz and /metrics until then', async () => {
    const httpPort = await freePort();
    const [api, worker] = await Promise.all([
      startApi('api-only', env),
      startWorker('worker', {
        ...env,
        TSB_WORKER_HTTP_PORT: String(httpPort),
        HOST: '127.0.0.1',
        // a production process: /metrics needs a token or this opt-out
        TSB_METRICS_PUBLIC: 'true',
      }),
    ]);
    const workerUrl = `http://127.0.0.1:${httpPort}`;
    await until('the worker to listen', () =>
      fetch(`${workerUrl}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    );
    const ready = await fetch(`${workerUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { database: 'ok', redis: 'ok', masterKey: 'loaded', worker: 'running' },
    });
    await createKeys(api.url, 'b');
    const { requestId, jobId } = await startHeldJob(api.url, 'b');
    const metrics = await (await fetch(`${workerUrl}/metrics`)).text();
    expect(metrics).toContain('tsb_build_info{version=');
    expect(metrics).toMatch(/tsb_workflow_queue_jobs\{state="active"\} 1\b/);

    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    const exited = worker.exited.then(() => Date.now());
    // closing: the worker takes no new job and says so, while the running one goes on
    await until('the worker to report itself stopped', async () => {
      const answer = await fetch(`${workerUrl}/readyz`).catch(() => null);
      if (answer?.status !== 503) return false;
      const readiness = (await answer.json()) as { checks: { worker?: string } };
      return readiness.checks.worker === 'stopped';
    });
    expect(worker.alive()).toBe(true);

    const exitedAt = await exited;
    expect(exitedAt - signalledAt).toBeGreaterThanOrEqual(HOLD_MS - 500);
    expect(exitedAt - signalledAt).toBeLessThan(8_000);
    const finished = worker.output.findIndex((line) => line.includes('worker finished its running jobs'));
    expect(finished, worker.output.join('\n')).toBeGreaterThanOrEqual(0);
    await expectJobFinished(worker, requestId, jobId, exitedAt);
  }, 120_000);
});
