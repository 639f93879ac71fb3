/**
 * A lazily created pool of worker threads for CPU work that would block the event loop for
 * milliseconds (post-quantum signatures, slow key generation).
 *
 * - Workers are referenced only while they have work, so an idle pool never keeps a process alive.
 * - Run from TypeScript sources (tsx, vitest), a worker first registers tsx's loader; in a compiled
 *   build it is the .js file beside its pool.
 * - If a worker cannot be started, or dies, its tasks run on the calling thread instead.
 *
 * - A `fair` pool gives each worker two tasks at a time (FAIR_TASKS_PER_WORKER) and keeps the others here, one queue per owner (the
 *   partition whose request asked, work-owner.ts), handing them out in turn: a tenant that queues hours of work
 *   (a tall LMS tree is a thousand subtree tasks, SLH-DSA-SHAKE-256s signs for tens of seconds) delays another
 *   tenant's task by at most the tasks the workers already hold, not by its whole queue.
 *
 * Protocol: the pool posts `{ id, task }`; the worker (see `serveTasks`) answers `{ ready: true }`
 * once, then `{ id, result }` or `{ id, error }` per task. Byte views in tasks and results travel as their own
 * bytes only (`postable`), never as the larger buffer they may be part of.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parentPort, Worker } from 'node:worker_threads';
import { TurnQueues, workOwner } from './work-owner.js';

type Reply<Result> = { ready: true } | { id: number; result: Result } | { id: number; error: string };

interface Pending<Task, Result> {
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
  task: Task;
  /** fair pools: whose task it is (work-owner.ts) */
  owner: string;
}

interface Slot<Task, Result> {
  worker: Worker;
  pending: Map<number, Pending<Task, Result>>;
  started: boolean;
}

export interface WorkerPoolOptions<Task, Result> {
  /** names the pool in errors */
  name: string;
  /** the worker module, from `workerModuleUrl` */
  workerUrl: URL;
  size: number;
  /** the same work on the calling thread, for when no worker can run it */
  inline: (task: Task) => Result;
  /** restores what structured cloning changed in a result (e.g. Buffers arrive as Uint8Arrays) */
  revive?: (result: Result) => Result;
  /** two tasks per worker at a time, the waiting ones served in turn per owner (see above) */
  fair?: boolean;
}

/**
 * The bytes of a view in a buffer of their own, for a task to post. Posting a view to a worker copies its whole
 * ArrayBuffer, and a small Buffer (a decoded payload, say) is a view into Node's shared 64 KiB pool: each message
 * would copy the pool, with whatever else it holds.
 */
export function ownBytes(view: Uint8Array): Uint8Array {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view : new Uint8Array(view);
}

/** how many levels of arrays and objects `postable` looks into: a batch of tasks, a task, an object in a task */
const POSTABLE_DEPTH = 3;

/**
 * A message as it may be posted: every byte view in it (in arrays and plain objects, POSTABLE_DEPTH levels
 * down) in a buffer of its own (`ownBytes`). Anything else (key objects, numbers, text) is posted as it is;
 * the message is only rebuilt where a view had to be copied.
 */
export function postable<T>(message: T, depth = POSTABLE_DEPTH, made?: Uint8Array[]): T {
  // a view of shared memory is shared with the worker, not copied
  if (message instanceof Uint8Array) {
    if (message.buffer instanceof SharedArrayBuffer) return message;
    const own = ownBytes(message);
    if (own !== message) made?.push(own);
    return own as T;
  }
  if (depth === 0 || message === null || typeof message !== 'object') return message;
  if (Array.isArray(message)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < message.length; i++) {
      const item: unknown = message[i];
      const posted = postable(item, depth - 1, made);
      if (posted === item) continue;
      copy ??= [...message];
      copy[i] = posted;
    }
    return (copy ?? message) as T;
  }
  if (Object.getPrototypeOf(message) !== Object.prototype) return message;
  const fields = message as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(fields)) {
    const posted = postable(value, depth - 1, made);
    if (posted === value) continue;
    copy ??= { ...fields };
    copy[name] = posted;
  }
  return (copy ?? message) as T;
}

/**
 * Posts `message` as `postable` makes it, then wipes the copies that made: postMessage has cloned them by the
 * time it returns, and a copy of a secret (a key's bytes in a task, a derived key in a result) must not wait in
 * this heap for the garbage collector.
 */
export function postWiped(
  port: { postMessage(message: unknown): void },
  wrap: (posted: unknown) => unknown,
  message: unknown,
): void {
  const made: Uint8Array[] = [];
  try {
    port.postMessage(wrap(postable(message, POSTABLE_DEPTH, made)));
  } finally {
    for (const copy of made) copy.fill(0);
  }
}

/**
 * Tasks a fair pool gives a worker at a time: the one it runs and the next, so that it need not wait for the
 * round trip to the event loop between two (~0.1 ms a task here, measured with tasks that cost nothing).
 */
const FAIR_TASKS_PER_WORKER = 2;

/** Loads a TypeScript worker through tsx (the same API bin/tsb.js uses). */
const TSX_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi)
  .then((api) => { api.register(); return import(workerData.entry); })
  .catch((error) => { setImmediate(() => { throw error; }); });
`;

/** The worker module `basename` beside the module at `selfUrl`: `.ts` when running from sources, else `.js`. */
export function workerModuleUrl(selfUrl: string, basename: string): URL {
  return new URL(`./${basename}.${selfUrl.endsWith('.ts') ? 'ts' : 'js'}`, selfUrl);
}

function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = require(manifestPath) as { exports: Record<string, { import: { default: string } }> };
  const entry = manifest.exports['./esm/api']?.import.default;
  if (!entry) throw new Error('tsx/esm/api not found');
  return new URL(entry, pathToFileURL(manifestPath)).href;
}

export class WorkerPool<Task, Result> {
  private slots: Slot<Task, Result>[] = [];
  private nextId = 1;
  private disabled = false;
  /** fair pools: the tasks no worker has yet, per owner */
  private readonly waiting = new TurnQueues<Pending<Task, Result>>();
  private readonly counters = { worker: 0, inline: 0, workerFailures: 0 };

  constructor(private readonly options: WorkerPoolOptions<Task, Result>) {}

  /** How many tasks ran in a worker or inline, for tests and statistics. */
  stats() {
    return { ...this.counters, workers: this.slots.length, disabled: this.disabled };
  }

  /** Runs a task in a worker thread (on the calling thread if workers are unavailable). */
  async run(task: Task): Promise<Result> {
    if (this.disabled) return this.inline(task);
    if (this.options.fair) {
      return new Promise<Result>((resolve, reject) => {
        const owner = workOwner();
        this.waiting.push(owner, { resolve, reject, task, owner });
        this.dispatch();
      });
    }
    let slot: Slot<Task, Result>;
    try {
      slot = this.pickSlot();
    } catch {
      this.disabled = true;
      return this.inline(task);
    }
    return new Promise<Result>((resolve, reject) => this.post(slot, { resolve, reject, task, owner: '' }));
  }

  private post(slot: Slot<Task, Result>, job: Pending<Task, Result>): void {
    const id = this.nextId++;
    slot.pending.set(id, job);
    slot.worker.ref();
    postWiped(slot.worker, (task) => ({ id, task }), job.task);
  }

  /** Fair pools: hands waiting tasks to workers with room, the next owner's first task each time. */
  private dispatch(): void {
    while (!this.waiting.empty) {
      let slot: Slot<Task, Result> | undefined;
      if (!this.disabled) {
        slot = this.slots.find((candidate) => candidate.pending.size === 0);
        if (!slot && this.slots.length < this.options.size) {
          try {
            slot = this.startWorker();
          } catch {
            this.disabled = true;
          }
        }
        slot ??= this.slots.find((candidate) => candidate.pending.size < FAIR_TASKS_PER_WORKER);
        if (!slot && !this.disabled) return;
      }
      const job = this.waiting.take()!.item;
      if (slot) {
        this.post(slot, job);
        continue;
      }
      try {
        job.resolve(this.inline(job.task));
      } catch (error) {
        job.reject(error instanceof Error ? error : new Error(String(error)));
      }
      this.waiting.done(job.owner);
    }
  }

  /** Stops the workers (graceful shutdown, tests); the pool restarts lazily on the next task. */
  async shutdown(): Promise<void> {
    const stopping = this.slots;
    this.slots = [];
    for (const job of this.waiting.drain()) job.reject(new Error(`${this.options.name} shut down`));
    await Promise.all(
      stopping.map(async (slot) => {
        for (const job of slot.pending.values()) {
          if (this.options.fair) this.waiting.done(job.owner);
          job.reject(new Error(`${this.options.name} shut down`));
        }
        slot.pending.clear();
        await slot.worker.terminate();
      }),
    );
  }

  private inline(task: Task): Result {
    this.counters.inline++;
    return this.options.inline(task);
  }

  private pickSlot(): Slot<Task, Result> {
    const idle = this.slots.find((slot) => slot.pending.size === 0);
    if (idle) return idle;
    if (this.slots.length < this.options.size) return this.startWorker();
    return this.slots.reduce((best, slot) => (slot.pending.size < best.pending.size ? slot : best));
  }

  private startWorker(): Slot<Task, Result> {
    const { workerUrl, revive } = this.options;
    const settings = { stdout: false, stderr: false };
    const worker = workerUrl.pathname.endsWith('.ts')
      ? new Worker(TSX_BOOTSTRAP, {
          ...settings,
          eval: true,
          workerData: { tsxApi: tsxEsmApiUrl(), entry: workerUrl.href },
        })
      : new Worker(fileURLToPath(workerUrl), settings);
    const slot: Slot<Task, Result> = { worker, pending: new Map(), started: false };
    worker.unref();
    worker.on('message', (reply: Reply<Result>) => {
      if ('ready' in reply) {
        slot.started = true;
        return;
      }
      const job = slot.pending.get(reply.id);
      if (!job) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if ('error' in reply) {
        job.reject(new Error(reply.error));
      } else {
        this.counters.worker++;
        job.resolve(revive ? revive(reply.result) : reply.result);
      }
      if (this.options.fair) {
        this.waiting.done(job.owner);
        this.dispatch();
      }
    });
    const retire = (error: Error) => {
      this.slots = this.slots.filter((other) => other !== slot);
      this.counters.workerFailures++;
      // a worker that never came up will not come up next time either: stop trying
      if (!slot.started) this.disabled = true;
      for (const job of slot.pending.values()) {
        try {
          job.resolve(this.inline(job.task));
        } catch {
          job.reject(error);
        }
        if (this.options.fair) this.waiting.done(job.owner);
      }
      slot.pending.clear();
      if (this.options.fair) this.dispatch();
    };
    worker.on('error', retire);
    worker.on('exit', (code) => {
      if (this.slots.includes(slot))
        retire(new Error(`${this.options.name} worker exited with code ${code}`));
    });
    this.slots.push(slot);
    return slot;
  }
}

/** The worker side: answers each `{ id, task }` with the handler's result or its error message. */
export function serveTasks<Task, Result>(handler: (task: Task) => Result): void {
  parentPort?.on('message', ({ id, task }: { id: number; task: Task }) => {
    try {
      if (parentPort) postWiped(parentPort, (result) => ({ id, result }), handler(task));
    } catch (error) {
      parentPort?.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
    }
  });
  parentPort?.postMessage({ ready: true });
}
