/**
 * `npm run bench:workflow`: the SKA approval workflow end to end over HTTP, against the real service
 * (`src/server.ts`) and worker (`src/worker.ts`) as child processes, a private redis-server (`hz 100`) and
 * a fresh PostgreSQL database. Every request is a 1-of-1 sign request on a P-256 SKA key; the approver
 * signs with P-256 (node:crypto, in this process).
 *
 * Two worker placements ("modes"): `in-process` (the API runs the worker, TSB_WORKFLOW_WORKER=true) and
 * `separate` (API with TSB_WORKFLOW_WORKER=false plus one `src/worker.ts` process; the API runs the approvals it
 * records either way, the worker the timers and the sweep). Per mode:
 *   1. latency: one request at a time — create, list its task, then time the approval: from sending it
 *      (and from its response) to the first `GET /v1/request/{id}` that shows EXECUTED, polling back to
 *      back (one GET in flight, no pause); plus the server's own decidedAt → executedAt from the database;
 *   2. profile: SQL statements per step (counted inside the service processes by bench/query-counter.ts)
 *      and Redis commands per step (INFO commandstats of the private redis);
 *   3. throughput: full flows (create, list task, approve, poll until EXECUTED) by C concurrent clients.
 *
 * Results: bench/results/workflow-latest.{md,json}. The database is dropped at the end (also on error or
 * Ctrl-C). Environment: BENCH_WORKFLOW_MODES (default in-process,separate), BENCH_WORKFLOW_SAMPLES
 * (latency samples per mode, default 400), BENCH_WORKFLOW_CONCURRENCY (default 16,64),
 * BENCH_WORKFLOW_DURATION (seconds per throughput run, default 10), BENCH_WORKFLOW_WARMUP (seconds,
 * default 2), BENCH_WORKFLOW_POLL_MS (pause between status polls in the throughput runs, default 2),
 * BENCH_WORKFLOW_PROFILE_FLOWS (default 100), BENCH_PG_URL (maintenance connection, default
 * postgresql://postgres@127.0.0.1:5432/postgres), BENCH_WORKFLOW_DB (default opentsb_workflow_bench),
 * BENCH_WORKFLOW_PG_SOCKET_DIR (e.g. /var/run/postgresql: the services use the Unix socket instead of TCP),
 * BENCH_WORKFLOW_NODE_ARGS (extra node flags for the service processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createApprover, rule } from '../test/helpers/approvers.js';
import {
  approvalBody,
  type ChildService,
  type HttpTask,
  listTasksOver,
  type PrivateRedis,
  sleep,
  startApi,
  startRedis,
  startWorker,
  stop,
  stopAll,
  tsb,
} from '../test/helpers/processes.js';
import {
  benchDatabase,
  benchRun,
  type Distribution,
  distribution,
  gitRevision,
  machineBusySeconds,
  percentile,
  postgresCpuSeconds,
  processCpuSeconds,
  RESULTS_DIR,
} from './bench-support.js';
import { call } from './keep-alive-call.js';

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
}

const SAMPLES = numberFromEnv('BENCH_WORKFLOW_SAMPLES', 400);
const DURATION = numberFromEnv('BENCH_WORKFLOW_DURATION', 10);
const WARMUP = numberFromEnv('BENCH_WORKFLOW_WARMUP', 2);
const POLL_MS = numberFromEnv('BENCH_WORKFLOW_POLL_MS', 2);
const PROFILE_FLOWS = numberFromEnv('BENCH_WORKFLOW_PROFILE_FLOWS', 100);
const CONCURRENCY = (process.env.BENCH_WORKFLOW_CONCURRENCY ?? '16,64')
  .split(',')
  .map((part) => Number(part.trim()))
  .filter((n) => Number.isInteger(n) && n > 0);
type Mode = 'in-process' | 'separate';
const MODES = (process.env.BENCH_WORKFLOW_MODES ?? 'in-process,separate')
  .split(',')
  .map((part) => part.trim())
  .filter((mode): mode is Mode => mode === 'in-process' || mode === 'separate');
const DB = benchDatabase('BENCH_WORKFLOW_DB', 'opentsb_workflow_bench');
const DB_NAME = DB.name;
const DATABASE_URL = DB.url;
/** e.g. /var/run/postgresql: the services reach PostgreSQL through its Unix socket instead of TCP */
const SERVICE_PG_SOCKET = process.env.BENCH_WORKFLOW_PG_SOCKET_DIR ?? '';
const NODE_ARGS = (process.env.BENCH_WORKFLOW_NODE_ARGS ?? '').split(' ').filter(Boolean);
const TARGETS = { latencyP50Ms: 15, latencyP99Ms: 60, flowsPerSecond: 500 };

// Log and clean-up, run once: at the end, on error, and on SIGINT/SIGTERM
const bench = benchRun('workflow-bench', `stopping the services and dropping ${DB_NAME}`);
const { log } = bench;

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc (Linux; zero elsewhere): processCpuSeconds and the others in bench-support.ts

interface CpuSnapshot {
  at: number;
  api: number;
  worker: number;
  redis: number;
  postgres: number;
  loader: NodeJS.CpuUsage;
  machine: number;
}

interface CoresUsed {
  api: number;
  worker: number;
  redis: number;
  postgres: number;
  loader: number;
  machine: number;
  foreign: number;
}

// ---------------------------------------------------------------------------------------------
// Formatting

const fmt = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';
const ms = (value: number) => (value < 10 ? fmt(value, 2) : value < 100 ? fmt(value, 1) : fmt(value));

// ---------------------------------------------------------------------------------------------
// The world: one partition, its API keys, one approver; per mode a key and the services

interface World {
  env: Record<string, string>;
  redis: PrivateRedis;
  keys: { management: string; operation: string; approver: string };
  approver: ReturnType<typeof createApprover>;
  db: pg.Client;
}

interface Services {
  mode: Mode;
  api: ChildService;
  worker: ChildService | null;
  label: string;
}

/** Asks a service process (started with bench/query-counter.ts) for its SQL statement counts. */
function queryCounts(service: ChildService): Promise<Record<string, number>> {
  const stderr = service.child.stderr!;
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => {
      stderr.off('data', onData);
      reject(new Error(`${service.name} did not report its query counts`));
    }, 5_000);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const line = buffer.split('\n').find((candidate) => candidate.startsWith('QUERYCOUNT '));
      if (line === undefined) return;
      clearTimeout(timer);
      stderr.off('data', onData);
      resolve(JSON.parse(line.slice('QUERYCOUNT '.length)) as Record<string, number>);
    };
    stderr.on('data', onData);
    service.child.kill('SIGWINCH');
  });
}

async function redisCommands(redis: PrivateRedis): Promise<number> {
  const info = await redis.client.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_(\w+(?:\|\w+)?):calls=(\d+)/gm)) {
    if (match[1] !== 'info') calls += Number(match[2]);
  }
  return calls;
}

function cpuSnapshot(services: Services, redis: PrivateRedis): CpuSnapshot {
  return {
    at: performance.now(),
    api: processCpuSeconds(services.api.child.pid),
    worker: processCpuSeconds(services.worker?.child.pid),
    redis: processCpuSeconds(redis.service.child.pid),
    postgres: postgresCpuSeconds(),
    loader: process.cpuUsage(),
    machine: machineBusySeconds(),
  };
}

function coresSince(before: CpuSnapshot, services: Services, redis: PrivateRedis): CoresUsed {
  const after = cpuSnapshot(services, redis);
  const seconds = (after.at - before.at) / 1000;
  const loaderUsage = process.cpuUsage(before.loader);
  const loader = (loaderUsage.user + loaderUsage.system) / 1e6;
  const used = {
    api: after.api - before.api,
    worker: after.worker - before.worker,
    redis: after.redis - before.redis,
    postgres: after.postgres - before.postgres,
    loader,
    machine: after.machine - before.machine,
  };
  const cores = (value: number) => Math.round((value / seconds) * 100) / 100;
  return {
    api: cores(used.api),
    worker: cores(used.worker),
    redis: cores(used.redis),
    postgres: cores(used.postgres),
    loader: cores(used.loader),
    machine: cores(used.machine),
    foreign: cores(
      Math.max(0, used.machine - used.api - used.worker - used.redis - used.postgres - used.loader),
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// Flow steps

async function createRequest(world: World, services: Services): Promise<string> {
  const answer = await call<{ signRequestId: string }>(
    services.api.url,
    'POST',
    '/v1/sign',
    world.keys.operation,
    {
      signRequest: {
        payload: randomBytes(32).toString('base64'),
        signKeyName: services.label,
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
      },
    },
  );
  if (answer.status !== 201) throw new Error(`create: ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer.json.signRequestId;
}

async function taskOf(world: World, services: Services, requestId: string): Promise<HttpTask> {
  const [task] = await listTasksOver(services.api.url, world.keys.approver, world.approver, {
    requestId,
    send: call,
  });
  if (!task) throw new Error(`no task for request ${requestId}`);
  return task;
}

async function approve(world: World, services: Services, body: object): Promise<void> {
  const answer = await call(services.api.url, 'POST', '/v1/approval', world.keys.approver, body);
  if (answer.status !== 200) throw new Error(`approve: ${answer.status} ${JSON.stringify(answer.json)}`);
}

async function statusOf(world: World, services: Services, requestId: string): Promise<string> {
  const answer = await call(services.api.url, 'GET', `/v1/request/${requestId}`, world.keys.operation);
  if (answer.status !== 200) throw new Error(`status: ${answer.status} ${JSON.stringify(answer.json)}`);
  const status = String(answer.json['status']);
  if (status !== 'PENDING' && status !== 'APPROVED' && status !== 'EXECUTED')
    throw new Error(`request ${requestId} ended ${status}: ${JSON.stringify(answer.json)}`);
  return status;
}

/** Polls until EXECUTED (pausing `pauseMs` between polls, none when 0); returns the number of GETs. */
async function untilExecuted(
  world: World,
  services: Services,
  requestId: string,
  pauseMs: number,
): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (let polls = 1; ; polls++) {
    if ((await statusOf(world, services, requestId)) === 'EXECUTED') return polls;
    if (Date.now() > deadline) throw new Error(`request ${requestId} not EXECUTED within 30 s`);
    if (pauseMs > 0) await sleep(pauseMs);
  }
}

interface FlowTimes {
  create: number;
  listTask: number;
  approve: number;
  untilExecuted: number;
  polls: number;
}

async function fullFlow(world: World, services: Services, pauseMs: number): Promise<FlowTimes> {
  const t0 = performance.now();
  const id = await createRequest(world, services);
  const t1 = performance.now();
  const task = await taskOf(world, services, id);
  const t2 = performance.now();
  await approve(world, services, approvalBody(world.approver, task));
  const t3 = performance.now();
  const polls = await untilExecuted(world, services, id, pauseMs);
  return {
    create: t1 - t0,
    listTask: t2 - t1,
    approve: t3 - t2,
    untilExecuted: performance.now() - t3,
    polls,
  };
}

// ---------------------------------------------------------------------------------------------
// Measurements

interface LatencyFigures {
  /** approval sent → first GET answer that shows EXECUTED */
  fromApprovalSent: Distribution;
  /** approval answered → first GET answer that shows EXECUTED (the target's measure) */
  fromApprovalAnswered: Distribution;
  /** the approval's own HTTP round trip */
  approvalHttp: Distribution;
  /** server side, from the database: task decidedAt → request executedAt (ms resolution) */
  decidedToExecuted: Distribution;
  pollsPerSample: number;
}

async function measureLatency(world: World, services: Services): Promise<LatencyFigures> {
  const fromSent: number[] = [];
  const fromAnswered: number[] = [];
  const approvalHttp: number[] = [];
  const ids: string[] = [];
  let polls = 0;
  for (let sample = 0; sample < SAMPLES; sample++) {
    const id = await createRequest(world, services);
    const body = approvalBody(world.approver, await taskOf(world, services, id));
    const sent = performance.now();
    await approve(world, services, body);
    const answered = performance.now();
    polls += await untilExecuted(world, services, id, 0);
    const visible = performance.now();
    fromSent.push(visible - sent);
    fromAnswered.push(visible - answered);
    approvalHttp.push(answered - sent);
    ids.push(id);
  }
  const { rows } = await world.db.query<{ ms: string }>(
    `SELECT EXTRACT(EPOCH FROM (r."executedAt" - t."decidedAt")) * 1000 AS ms
       FROM "SkaRequest" r JOIN "ApprovalTask" t ON t."requestId" = r."id"
      WHERE r."id" = ANY($1::uuid[])`,
    [ids],
  );
  return {
    fromApprovalSent: distribution(fromSent),
    fromApprovalAnswered: distribution(fromAnswered),
    approvalHttp: distribution(approvalHttp),
    decidedToExecuted: distribution(rows.map((row) => Number(row.ms))),
    pollsPerSample: Math.round((polls / SAMPLES) * 100) / 100,
  };
}

interface StepCost {
  /** SQL statements (round trips) per call, by the API process and by the worker process */
  sqlApi: number;
  sqlWorker: number;
  /** statements by leading keyword, both processes together, per call */
  sqlByKind: Record<string, number>;
  redisCommands: number;
}

interface Profile {
  flows: number;
  steps: Record<'create' | 'listTask' | 'approveAndExecute' | 'statusGet', StepCost>;
}

/** SQL statements and Redis commands per step, each step run `PROFILE_FLOWS` times one after another. */
async function profileSteps(world: World, services: Services): Promise<Profile> {
  const n = PROFILE_FLOWS;
  const snapshot = async () => ({
    api: await queryCounts(services.api),
    worker: services.worker ? await queryCounts(services.worker) : null,
    redis: await redisCommands(world.redis),
  });
  const cost = (
    before: Awaited<ReturnType<typeof snapshot>>,
    after: Awaited<ReturnType<typeof snapshot>>,
  ): StepCost => {
    const per = (value: number) => Math.round((value / n) * 100) / 100;
    const delta = (a: Record<string, number> | null, b: Record<string, number> | null, kind: string) =>
      (b?.[kind] ?? 0) - (a?.[kind] ?? 0);
    const kinds = new Set([...Object.keys(after.api), ...Object.keys(after.worker ?? {})]);
    kinds.delete('total');
    const sqlByKind: Record<string, number> = {};
    for (const kind of kinds) {
      const value = delta(before.api, after.api, kind) + delta(before.worker, after.worker, kind);
      if (value > 0) sqlByKind[kind] = per(value);
    }
    return {
      sqlApi: per(delta(before.api, after.api, 'total')),
      sqlWorker: per(delta(before.worker, after.worker, 'total')),
      sqlByKind,
      // less the INFO calls of the snapshots themselves (excluded) and nothing else
      redisCommands: per(after.redis - before.redis),
    };
  };
  const quiet = () => sleep(300); // let timers (use counter flush, sweep) settle between steps

  await quiet();
  const s0 = await snapshot();
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await createRequest(world, services));
  await quiet();
  const s1 = await snapshot();
  const bodies: object[] = [];
  for (const id of ids) bodies.push(approvalBody(world.approver, await taskOf(world, services, id)));
  await quiet();
  const s2 = await snapshot();
  for (const body of bodies) await approve(world, services, body);
  for (const id of ids) {
    // wait through the database, so that no GET is counted in this step
    for (;;) {
      const { rows } = await world.db.query<{ status: string }>(
        'SELECT "status" FROM "SkaRequest" WHERE "id" = $1::uuid',
        [id],
      );
      if (rows[0]?.status === 'EXECUTED') break;
      await sleep(1);
    }
  }
  await quiet();
  const s3 = await snapshot();
  for (const id of ids) await statusOf(world, services, id);
  await quiet();
  const s4 = await snapshot();
  return {
    flows: n,
    steps: {
      create: cost(s0, s1),
      listTask: cost(s1, s2),
      approveAndExecute: cost(s2, s3),
      statusGet: cost(s3, s4),
    },
  };
}

function stepTimes(flows: readonly FlowTimes[], step: keyof FlowTimes): { p50: number; p99: number } {
  const values = flows.map((flow) => flow[step]);
  const round = (value: number) => Math.round(value * 100) / 100;
  return { p50: round(percentile(values, 50)), p99: round(percentile(values, 99)) };
}

interface ThroughputFigures {
  concurrency: number;
  flowsPerSecond: number;
  flowLatency: Distribution;
  /** p50 / p99 of each step of a flow, ms */
  steps: Record<'create' | 'listTask' | 'approve' | 'untilExecuted', { p50: number; p99: number }>;
  pollsPerFlow: number;
  errors: number;
  firstError: string | null;
  cores: CoresUsed;
  /** CPU time per completed flow, ms, by process */
  cpuMsPerFlow: { api: number; worker: number; redis: number; postgres: number; loader: number };
}

async function measureThroughput(
  world: World,
  services: Services,
  concurrency: number,
): Promise<ThroughputFigures> {
  const start = performance.now();
  const measureFrom = start + WARMUP * 1000;
  const measureTo = measureFrom + DURATION * 1000;
  const latencies: number[] = [];
  const flows: FlowTimes[] = [];
  let polls = 0;
  let errors = 0;
  let firstError: string | null = null;
  let cpuBefore: CpuSnapshot | null = null;
  let cores: CoresUsed | null = null;
  const warmupTimer = setTimeout(() => {
    cpuBefore = cpuSnapshot(services, world.redis);
  }, WARMUP * 1000);
  const endTimer = setTimeout(
    () => {
      if (cpuBefore) cores = coresSince(cpuBefore, services, world.redis);
    },
    (WARMUP + DURATION) * 1000,
  );
  const lane = async () => {
    while (performance.now() < measureTo) {
      const began = performance.now();
      try {
        const times = await fullFlow(world, services, POLL_MS);
        const ended = performance.now();
        if (ended > measureFrom && ended <= measureTo) {
          latencies.push(ended - began);
          flows.push(times);
          polls += times.polls;
        }
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
        await sleep(10);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  clearTimeout(warmupTimer);
  clearTimeout(endTimer);
  const used = cores ?? coresSince(cpuBefore ?? cpuSnapshot(services, world.redis), services, world.redis);
  const flowsPerSecond = latencies.length / DURATION;
  const perFlow = (coresValue: number) =>
    flowsPerSecond > 0 ? Math.round((coresValue / flowsPerSecond) * 1000 * 100) / 100 : Number.NaN;
  return {
    concurrency,
    flowsPerSecond: Math.round(flowsPerSecond * 10) / 10,
    flowLatency: distribution(latencies),
    steps: {
      create: stepTimes(flows, 'create'),
      listTask: stepTimes(flows, 'listTask'),
      approve: stepTimes(flows, 'approve'),
      untilExecuted: stepTimes(flows, 'untilExecuted'),
    },
    pollsPerFlow: Math.round((polls / Math.max(1, latencies.length)) * 100) / 100,
    errors,
    firstError,
    cores: used,
    cpuMsPerFlow: {
      api: perFlow(used.api),
      worker: perFlow(used.worker),
      redis: perFlow(used.redis),
      postgres: perFlow(used.postgres),
      loader: perFlow(used.loader),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One mode

interface ModeResult {
  mode: Mode;
  description: string;
  latency: LatencyFigures;
  profile: Profile;
  throughput: ThroughputFigures[];
}

const MODE_DESCRIPTION: Record<Mode, string> = {
  'in-process': 'one process: src/server.ts with the worker in-process (TSB_WORKFLOW_WORKER=true)',
  separate:
    'two processes: src/server.ts (TSB_WORKFLOW_WORKER=false; it runs the approvals it records, since 146d2f3) + src/worker.ts (timers, sweep)',
};

async function runMode(world: World, mode: Mode): Promise<ModeResult> {
  await world.db.query('TRUNCATE "SkaRequest" CASCADE');
  await world.redis.client.flushall();
  const options = { imports: ['./bench/query-counter.ts'], nodeArgs: NODE_ARGS };
  const api = await startApi(
    `api (${mode})`,
    { ...world.env, TSB_WORKFLOW_WORKER: mode === 'in-process' ? 'true' : 'false' },
    options,
  );
  bench.defer(() => stop(api));
  const worker = mode === 'separate' ? await startWorker('worker', world.env, options) : null;
  if (worker) bench.defer(() => stop(worker));
  const label = `wf-${mode}`;
  const services: Services = { mode, api, worker, label };
  const created = await call(api.url, 'POST', '/v1/key', world.keys.management, {
    label,
    algorithm: 'EC',
    curveOid: '1.2.840.10045.3.1.7',
    attributes: { decrypt: false, sign: true, unwrap: false },
    policy: { ruleUse: rule([{ quorum: 1, approvers: [world.approver] }]), keyStatus: { blocked: false } },
  });
  if (created.status !== 201)
    throw new Error(`creating the key: ${created.status} ${JSON.stringify(created.json)}`);
  log(
    `${mode}: services ready (api pid ${api.child.pid}${worker ? `, worker pid ${worker.child.pid}` : ''})`,
  );

  for (let i = 0; i < 50; i++) await fullFlow(world, services, 0); // warm-up: JIT, caches, pools
  const latency = await measureLatency(world, services);
  log(
    `${mode}: latency approval answered → EXECUTED visible p50 ${ms(latency.fromApprovalAnswered.p50)} ms, ` +
      `p99 ${ms(latency.fromApprovalAnswered.p99)} ms (from sent: p50 ${ms(latency.fromApprovalSent.p50)}, ` +
      `p99 ${ms(latency.fromApprovalSent.p99)}; server decided → executed p50 ${ms(latency.decidedToExecuted.p50)})`,
  );
  const profile = await profileSteps(world, services);
  log(
    `${mode}: SQL statements per step (api + worker): ${Object.entries(profile.steps)
      .map(([step, cost]) => `${step} ${cost.sqlApi} + ${cost.sqlWorker}`)
      .join(', ')}`,
  );
  const throughput: ThroughputFigures[] = [];
  for (const concurrency of CONCURRENCY) {
    const figures = await measureThroughput(world, services, concurrency);
    throughput.push(figures);
    log(
      `${mode} c=${concurrency}: ${fmt(figures.flowsPerSecond)} flows/s, flow p50 ${ms(figures.flowLatency.p50)} ms ` +
        `p99 ${ms(figures.flowLatency.p99)} ms (p50 create ${ms(figures.steps.create.p50)}, list ${ms(figures.steps.listTask.p50)}, ` +
        `approve ${ms(figures.steps.approve.p50)}, until executed ${ms(figures.steps.untilExecuted.p50)}), ` +
        `${figures.pollsPerFlow} polls/flow, errors ${figures.errors}; ` +
        `cores api ${figures.cores.api} worker ${figures.cores.worker} postgres ${figures.cores.postgres} ` +
        `redis ${figures.cores.redis} loader ${figures.cores.loader} foreign ${figures.cores.foreign}`,
    );
  }
  if (worker) await stop(worker);
  await stop(api);
  return { mode, description: MODE_DESCRIPTION[mode], latency, profile, throughput };
}

// ---------------------------------------------------------------------------------------------
// Report

function markdown(results: readonly ModeResult[], environment: Record<string, unknown>, startedAt: Date) {
  const lines: string[] = [
    `# SKA workflow benchmark, ${startedAt.toISOString()}`,
    '',
    `${environment['cpus']}, Node ${environment['node']}, revision ${environment['gitRevision']}. The loader (this process), the service, PostgreSQL and a private redis-server (hz 100) share the machine's cores.`,
    'Each request: 1-of-1 SKA sign request on a P-256 key, approver P-256, API keys (X-API-KEY). Modes: ' +
      results.map((result) => `**${result.mode}** = ${result.description}`).join('; ') +
      '.',
    '',
    `## 1. Approval → EXECUTED visible (one request at a time, ${SAMPLES} samples, GET /v1/request/{id} polled back to back)`,
    '',
    '| mode | from approval answered p50 / p90 / p99 / max ms | from approval sent p50 / p99 ms | approval HTTP p50 / p99 ms | server decidedAt → executedAt p50 / p99 ms | GETs per sample | target p50 ≤ 15, p99 ≤ 60 |',
    '| --- | --: | --: | --: | --: | --: | --- |',
  ];
  for (const { mode, latency } of results) {
    const a = latency.fromApprovalAnswered;
    const met = a.p50 <= TARGETS.latencyP50Ms && a.p99 <= TARGETS.latencyP99Ms;
    lines.push(
      `| ${mode} | ${ms(a.p50)} / ${ms(a.p90)} / ${ms(a.p99)} / ${ms(a.max)} | ${ms(latency.fromApprovalSent.p50)} / ${ms(latency.fromApprovalSent.p99)} | ${ms(latency.approvalHttp.p50)} / ${ms(latency.approvalHttp.p99)} | ${ms(latency.decidedToExecuted.p50)} / ${ms(latency.decidedToExecuted.p99)} | ${latency.pollsPerSample} | ${met ? 'met' : 'NOT met'} |`,
    );
  }
  lines.push(
    '',
    `## 2. Full 1-of-1 flows per second (create, list task, approve, poll every ${POLL_MS} ms until EXECUTED; ${DURATION} s after ${WARMUP} s warm-up)`,
    '',
    '| mode | clients | flows/s | flow p50 / p99 ms | step p50 ms: create / list / approve / until EXECUTED | GETs per flow | errors | cores api / worker / postgres / redis / loader / foreign | CPU ms per flow api / worker / postgres / redis | target ≥ 500/s |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --- |',
  );
  for (const { mode, throughput } of results) {
    for (const row of throughput) {
      const c = row.cores;
      const cpu = row.cpuMsPerFlow;
      lines.push(
        `| ${mode} | ${row.concurrency} | ${fmt(row.flowsPerSecond)} | ${ms(row.flowLatency.p50)} / ${ms(row.flowLatency.p99)} | ${ms(row.steps.create.p50)} / ${ms(row.steps.listTask.p50)} / ${ms(row.steps.approve.p50)} / ${ms(row.steps.untilExecuted.p50)} | ${row.pollsPerFlow} | ${row.errors} | ${c.api} / ${c.worker} / ${c.postgres} / ${c.redis} / ${c.loader} / ${c.foreign} | ${cpu.api} / ${cpu.worker} / ${cpu.postgres} / ${cpu.redis} | ${row.flowsPerSecond >= TARGETS.flowsPerSecond ? 'met' : 'NOT met'} |`,
      );
    }
  }
  lines.push(
    '',
    `## 3. Cost per step (${results[0]?.profile.flows ?? 0} calls of each, one at a time): SQL statements sent by the API / the worker process, Redis commands`,
    '',
    '| mode | step | SQL api | SQL worker | SQL by kind (both) | Redis commands |',
    '| --- | --- | --: | --: | --- | --: |',
  );
  for (const { mode, profile } of results) {
    for (const [step, cost] of Object.entries(profile.steps)) {
      const kinds = Object.entries(cost.sqlByKind)
        .sort((a, b) => b[1] - a[1])
        .map(([kind, value]) => `${kind} ${value}`)
        .join(', ');
      lines.push(
        `| ${mode} | ${step} | ${cost.sqlApi} | ${mode === 'in-process' ? '(in api)' : cost.sqlWorker} | ${kinds} | ${cost.redisCommands} |`,
      );
    }
  }
  lines.push(
    '',
    'SQL statements are counted inside the service processes (bench/query-counter.ts wraps pg Client.query: one call = one round trip, BEGIN/COMMIT included). Redis commands: INFO commandstats of the private redis (all clients, including the worker’s idle blocking polls).',
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (MODES.length === 0) throw new Error('BENCH_WORKFLOW_MODES selects no mode (in-process, separate)');
  const startedAt = new Date();
  log(`creating database ${DB_NAME}`);
  await DB.create(bench);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'opentsb-workflow-bench-'));
  bench.defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const redis = await startRedis();
  bench.defer(() => redis.close());
  bench.defer(() => stopAll(5_000));
  const serviceDatabaseUrl = new URL(DATABASE_URL);
  if (SERVICE_PG_SOCKET) serviceDatabaseUrl.searchParams.set('host', SERVICE_PG_SOCKET);
  const env = {
    DATABASE_URL: serviceDatabaseUrl.toString(),
    REDIS_URL: redis.url,
    TSB_MASTER_KEY: randomBytes(32).toString('base64'),
    TSB_DATA_DIR: dataDir,
    TSB_QUEUE_PREFIX: 'bench',
  };
  await tsb(['partition', 'create', 'bench'], env);
  const apiKey = async (role: string) =>
    (await tsb(['apikey', 'create', '--partition', 'bench', '--role', role], env)).trim();
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  bench.defer(() => db.end());
  const world: World = {
    env,
    redis,
    keys: {
      management: await apiKey('keyManagement'),
      operation: await apiKey('keyOperation'),
      approver: await apiKey('approver'),
    },
    approver: createApprover('P-256'),
    db,
  };

  const environment = {
    node: process.version,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
    platform: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg(),
    gitRevision: gitRevision(),
    redis: execFileSync('redis-server', ['--version']).toString().trim(),
  };
  const results: ModeResult[] = [];
  for (const mode of MODES) results.push(await runMode(world, mode));

  const table = markdown(results, environment, startedAt);
  const settings = {
    samples: SAMPLES,
    durationSeconds: DURATION,
    warmupSeconds: WARMUP,
    pollPauseMs: POLL_MS,
    concurrency: CONCURRENCY,
    profileFlows: PROFILE_FLOWS,
    modes: MODES,
    targets: TARGETS,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    path.join(RESULTS_DIR, 'workflow-latest.json'),
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        environment,
        settings,
        results,
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(path.join(RESULTS_DIR, 'workflow-latest.md'), table);
  process.stdout.write(
    `\n${table}\nwritten: bench/results/workflow-latest.md, bench/results/workflow-latest.json\n`,
  );
}

await bench.run(main);
