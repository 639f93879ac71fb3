/**
 * The SKA workflow's BullMQ queue. Job data holds ids only; job ids are deterministic (request id and
 * the moment or event), so the same timer armed twice is one job. Jobs only ask the engine to look at a
 * request again; the database decides what happens, so a lost or repeated job is harmless.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { connectionSettled } from '../../lib/redis-connection.js';

export const QUEUE_NAME = 'ska-workflow';
/** BullMQ waits for a connection that is not there; the API must not: the sweep catches up later. */
const ADD_TIMEOUT_MS = 1_000;
/** A bulk of re-armed timers (at most a thousand) runs in the background: it may take longer. */
const BULK_ADD_TIMEOUT_MS = 10_000;

export type WorkflowJobName = 'evaluate' | 'execute' | 'notify';

export interface WorkflowJobData {
  requestId: string;
  /** notify only: what happened */
  event?: string;
}

export type WorkflowJobHandler = (name: WorkflowJobName, data: WorkflowJobData) => Promise<void>;

export interface QueueOptions {
  redisUrl: string;
  prefix: string;
}

export class WorkflowQueue {
  private readonly producerConnection: Redis;
  private readonly queue: Queue<WorkflowJobData, void, WorkflowJobName>;
  private worker: Worker<WorkflowJobData, void, WorkflowJobName> | null = null;
  private workerConnection: Redis | null = null;
  /** the jobs this process's worker is running */
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: QueueOptions) {
    // The API side must not hang while Redis is away: commands fail at once, and the
    // database sweep picks up whatever could not be queued.
    this.producerConnection = new Redis(options.redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false,
    });
    this.producerConnection.on('error', () => {});
    this.queue = new Queue(QUEUE_NAME, {
      connection: this.producerConnection,
      prefix: options.prefix,
      defaultJobOptions: {
        removeOnComplete: true,
        removeOnFail: 1000,
        attempts: 5,
        backoff: { type: 'exponential', delay: 200 },
      },
    });
    this.queue.on('error', () => {});
  }

  /** Asks for a look at the request at `at` (now when omitted or past). `tag` makes the job id unique per event. */
  async evaluate(requestId: string, tag: string, at?: Date | null): Promise<void> {
    await this.add(
      'evaluate',
      { requestId },
      timerJobId({ job: 'evaluate', requestId, tag, at: at ?? null }),
      at,
    );
  }

  async execute(requestId: string, at: Date): Promise<void> {
    await this.add('execute', { requestId }, timerJobId({ job: 'execute', requestId, at }), at);
  }

  /**
   * Queues many timers in one round trip (`addBulk`), each under the job id `evaluate` or `execute` gives it, so
   * a timer already queued is not queued twice. For re-arming every open request as a worker starts.
   */
  async arm(timers: readonly RequestTimer[]): Promise<void> {
    if (timers.length === 0) return;
    const jobs = timers.map((timer) => ({
      name: timer.job,
      data: { requestId: timer.requestId },
      opts: { jobId: timerJobId(timer), delay: delayUntil(timer.at) },
    }));
    await withinTime(this.queue.addBulk(jobs), BULK_ADD_TIMEOUT_MS, `queueing ${jobs.length} jobs`);
  }

  async notify(requestId: string, event: string): Promise<void> {
    await this.add('notify', { requestId, event }, `notify-${requestId}-${event}`, null, {
      attempts: 8,
      backoff: { type: 'exponential', delay: 1000 },
    });
  }

  /** Whether Redis answers right now (the producer connection never waits for a reconnect). */
  async reachable(): Promise<boolean> {
    try {
      await connectionSettled(this.producerConnection, CONNECT_SETTLE_MS);
      return (await this.producerConnection.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Jobs waiting or delayed (for metrics and tests). */
  async depth(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  /** Jobs per state (metrics); rejects at once while Redis is unreachable. */
  jobCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'failed');
  }

  /** Whether this process's worker takes jobs (started and not closing). */
  workerRunning(): boolean {
    return this.worker?.isRunning() === true && !this.worker.closing;
  }

  /** `redis` hears of every failed connection attempt or worker error, and of each reconnection. */
  startWorker(
    handler: WorkflowJobHandler,
    concurrency: number,
    redis: { failed(error: unknown): void; recovered(): void },
  ): void {
    if (this.worker) return;
    this.workerConnection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null });
    this.workerConnection.on('error', (error) => redis.failed(error));
    this.workerConnection.on('ready', () => redis.recovered());
    this.worker = new Worker<WorkflowJobData, void, WorkflowJobName>(
      QUEUE_NAME,
      (job) => {
        const run = handler(job.name, job.data);
        this.running.add(run);
        return run.finally(() => this.running.delete(run));
      },
      { connection: this.workerConnection, prefix: this.options.prefix, concurrency },
    );
    this.worker.on('error', (error) => redis.failed(error));
  }

  /**
   * Stops the worker once its running jobs have ended, then closes the connections. With Redis away, BullMQ's
   * close would wait for a reconnection that may never come (a whole shutdown grace period): then the running
   * jobs are awaited here and the worker closed without Redis (their completion is not recorded; the jobs are
   * idempotent and the database decides).
   */
  async close(): Promise<void> {
    if (this.worker && this.workerConnection?.status !== 'ready') {
      await Promise.allSettled([...this.running]);
      await this.worker.close(true);
    } else {
      await this.worker?.close();
    }
    await this.queue.close();
    this.workerConnection?.disconnect();
    this.producerConnection.disconnect();
  }

  private async add(
    name: WorkflowJobName,
    data: WorkflowJobData,
    jobId: string,
    at: Date | null | undefined,
    options: { attempts?: number; backoff?: { type: 'exponential'; delay: number } } = {},
  ): Promise<void> {
    await withinTime(
      this.queue.add(name, data, { jobId, delay: delayUntil(at), ...options }),
      ADD_TIMEOUT_MS,
      'queueing a job',
    );
  }
}

/** What `evaluate` or `execute` queues, as data (`arm` queues many at once). */
export type RequestTimer =
  | { job: 'evaluate'; requestId: string; tag: string; at: Date | null }
  | { job: 'execute'; requestId: string; at: Date };

function timerJobId(timer: RequestTimer): string {
  return timer.job === 'evaluate'
    ? `evaluate-${timer.requestId}-${timer.tag}`
    : `execute-${timer.requestId}-${timer.at.getTime()}`;
}

function delayUntil(at: Date | null | undefined): number {
  return at ? Math.max(0, at.getTime() - Date.now()) : 0;
}

/** Rejects when `promise` has not settled after `ms` (it may still settle later, harmlessly: jobs are idempotent). */
function withinTime<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms (Redis unreachable?)`)), ms);
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** How long a readiness check waits for a connection still being made (a process just started). */
const CONNECT_SETTLE_MS = 1_000;
