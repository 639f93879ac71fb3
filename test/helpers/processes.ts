/**
 * Real processes for fault tests and benchmarks: a private redis-server, the API (`src/server.ts`) and
 * workers (`src/worker.ts`) as child processes, the `tsb` CLI in-process, and the approver's HTTP steps
 * over fetch. Nothing here imports vitest, so bench/ scripts can use it too.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { TestApprover } from './approvers.js';
import { runTsb } from './cli.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface ChildService {
  name: string;
  child: ChildProcess;
  /** the last lines of stdout and stderr */
  output: string[];
  /** http://127.0.0.1:PORT for an API process, '' for a worker or redis */
  url: string;
  exited: Promise<void>;
  alive(): boolean;
}

/** Every child started here, so one call can stop them all (also after a failed test). */
const children = new Set<ChildService>();

function track(name: string, child: ChildProcess, url: string): ChildService {
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (output.length > 300) output.splice(0, output.length - 300);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const service: ChildService = {
    name,
    child,
    output,
    url,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
  children.add(service);
  void exited.then(() => children.delete(service));
  return service;
}

/** SIGKILL: the process gets no chance to clean up. */
export async function kill(service: ChildService): Promise<void> {
  if (service.alive()) service.child.kill('SIGKILL');
  await service.exited;
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stop(service: ChildService, graceMs = 15_000): Promise<void> {
  if (!service.alive()) return;
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.alive() && service.child.kill('SIGKILL'), graceMs);
  await service.exited;
  clearTimeout(timer);
}

/** Stops every child this module started (SIGTERM, SIGKILL after `graceMs`). */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...children].map((service) => stop(service, graceMs)));
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** a client on this redis only (FLUSHALL is safe here) */
  client: Redis;
  service: ChildService;
  close(): Promise<void>;
}

/** A redis-server of our own on a free port, without persistence, `hz 100` (punctual delayed jobs). */
/** A private redis-server (nothing on disk); `port` restarts one on the port it had (empty, as after a restart). */
export async function startRedis(port?: number): Promise<PrivateRedis> {
  port ??= await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--hz', '100'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const service = track(`redis:${port}`, child, '');
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (!service.alive()) throw new Error(`redis-server exited:\n${service.output.join('\n')}`);
    try {
      await client.connect();
      await client.ping();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer`);
      client.disconnect();
      await sleep(50);
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client,
    service,
    close: async () => {
      client.disconnect();
      await stop(service, 2_000);
    },
  };
}

/** The environment of a service process: ours, minus anything that would configure it differently. */
export function serviceEnvironment(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(JWT_|TLS_|TSB_|REDIS_URL$|DATABASE_URL$|PORT$|HOST$|LOG_LEVEL$)/.test(name)) delete env[name];
  }
  // no rate limit by default: load generators and fault runs are one caller sending far more than a person would
  return {
    ...env,
    NODE_ENV: 'production',
    // the tests and benches scrape /metrics, which production mode closes without a token (and warns)
    TSB_METRICS_PUBLIC: 'true',
    TSB_RUN_MIGRATIONS: 'false',
    TSB_RATE_LIMIT_MAX: '0',
    TSB_RATE_LIMIT_UNAUTHENTICATED_MAX: '0',
    // load and fault runs may hold more open requests than a partition's default limit
    TSB_MAX_OPEN_REQUESTS: '0',
    ...settings,
  };
}

export interface NodeOptions {
  /** node flags before the script (e.g. --cpu-prof) */
  nodeArgs?: string[];
  /** modules loaded after tsx, before the script (`--import`), relative to the repository root */
  imports?: string[];
  /** the port to listen on (an API restarted where clients know it); default a free one */
  port?: number;
}

function nodeCommand(script: string, { nodeArgs = [], imports = [] }: NodeOptions): string[] {
  return [...nodeArgs, '--import', 'tsx', ...imports.flatMap((module) => ['--import', module]), script];
}

/** `node --import tsx src/server.ts`; resolves once /readyz answers 200. */
export async function startApi(
  name: string,
  env: Record<string, string>,
  options: NodeOptions = {},
): Promise<ChildService> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, nodeCommand('src/server.ts', options), {
    cwd: ROOT,
    env: serviceEnvironment({ LOG_LEVEL: 'warn', ...env, HOST: '127.0.0.1', PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const service = track(name, child, `http://127.0.0.1:${port}`);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (!service.alive()) throw new Error(`${name} exited during start-up:\n${service.output.join('\n')}`);
    try {
      const response = await fetch(`${service.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return service;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${name} was not ready within 60 s:\n${service.output.join('\n')}`);
}

const REARM_ENDED = ['re-armed the timers of open requests', 'could not re-arm request timers'];

/**
 * `node --import tsx src/worker.ts`; resolves once its worker has re-armed the open requests' timers (or logged
 * that it could not), which it does in the background after it started.
 */
export async function startWorker(
  name: string,
  env: Record<string, string>,
  options: NodeOptions = {},
): Promise<ChildService> {
  const child = spawn(process.execPath, nodeCommand('src/worker.ts', options), {
    cwd: ROOT,
    env: serviceEnvironment({ ...env, LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const service = track(name, child, '');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (!service.alive()) throw new Error(`${name} exited during start-up:\n${service.output.join('\n')}`);
    if (service.output.some((line) => REARM_ENDED.some((message) => line.includes(message)))) return service;
    await sleep(50);
  }
  throw new Error(`${name} did not start its worker within 60 s:\n${service.output.join('\n')}`);
}

/** Runs the `tsb` CLI in this process (the code `bin/tsb.js` runs) and returns its stdout. */
export async function tsb(args: string[], env: Record<string, string>): Promise<string> {
  const { code, stdout, stderr } = await runTsb(env, ...args);
  if (code !== 0) throw new Error(`tsb ${args.join(' ')} failed (${code}): ${stderr}`);
  return stdout;
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpAnswer<T = Record<string, unknown>> {
  status: number;
  json: T;
}

/** One JSON call with an X-API-KEY; network errors and timeouts reject. */
export async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  route: string,
  apiKey: string,
  body?: unknown,
  timeoutMs = 15_000,
): Promise<HttpAnswer<T>> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: {
      'x-api-key': apiKey,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return httpAnswer<T>(response.status, await response.text());
}

/** An answer's status and JSON body (`{}` when empty, the text itself when it is not JSON). */
export function httpAnswer<T>(status: number, text: string): HttpAnswer<T> {
  let json: unknown = text;
  try {
    json = text === '' ? {} : JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status, json: json as T };
}

export interface HttpTask {
  id: string;
  requestId: string;
  approvalToBeSigned: string;
  [field: string]: unknown;
}

/** The approver's open tasks (first page of up to 100), optionally of one request. */
export async function listTasksOver(
  base: string,
  apiKey: string,
  approver: TestApprover,
  options: { requestId?: string; path?: string; send?: typeof call } = {},
): Promise<HttpTask[]> {
  // a second in the past: the service refuses timestamps from its future
  const timestamp = new Date(Date.now() - 1_000).toISOString();
  const send = options.send ?? call;
  const answer = await send<{ tasks: HttpTask[] }>(
    base,
    'POST',
    options.path ?? '/v1/filteredSignApprovalTask',
    apiKey,
    {
      timestamp,
      timestampSignature: approver.sign(Buffer.from(timestamp, 'utf8')).toString('base64'),
      timestampDigestAlgorithm: approver.digest,
      approverPublicKey: approver.publicKey,
      detailLevel: 'level1',
      ...(options.requestId ? { requestId: options.requestId } : {}),
      paging: { pageNumber: 0, pageSize: 100, sortOrder: 'CREATION_DATE_ASC' },
    },
  );
  if (answer.status !== 200)
    throw new Error(`listing tasks: ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer.json.tasks;
}

/** The body of `POST /v1/approval`: the approver's signature over the task's challenge. */
export function approvalBody(approver: TestApprover, task: Pick<HttpTask, 'id' | 'approvalToBeSigned'>) {
  return {
    id: task.id,
    approvalToBeSigned: task.approvalToBeSigned,
    signature: approver.sign(Buffer.from(task.approvalToBeSigned, 'base64')).toString('base64'),
    approvalDigestAlgorithm: approver.digest,
    approverPublicKey: approver.publicKey,
  };
}

/** Approves a task; the answer's status is 200, or 409 when it was decided (or ran) already. */
export function approveOver(
  base: string,
  apiKey: string,
  approver: TestApprover,
  task: Pick<HttpTask, 'id' | 'approvalToBeSigned'>,
): Promise<HttpAnswer> {
  return call(base, 'POST', '/v1/approval', apiKey, approvalBody(approver, task));
}

/** Runs `work` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
