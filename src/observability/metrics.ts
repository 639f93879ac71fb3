/**
 * Prometheus metrics of one app (or worker) instance: HSM operations per algorithm, the key cache, the
 * workflow queue and SKA requests by status. Each instance has its own registry (tests build many apps
 * in one process); the process metrics (CPU, memory, event loop, GC) live in one registry per process.
 * Label values are bounded sets (operation, algorithm, state, status): never key names, ids or URLs.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkflowQueue } from '../features/approvals/queue.js';
import { REQUEST_STATUSES } from '../features/approvals/request-status.js';
import { SERVICE_VERSION } from '../features/service-info/version.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { SoftHsm } from '../hsm/soft-hsm.js';
import { CachedSnapshot } from './cached-snapshot.js';
import { registerStatefulKeyMetrics } from './stateful-metrics.js';

/** Redis is asked for the queue's job counts at most once a second, and given half a second to answer. */
const QUEUE_SNAPSHOT = { ttlMs: 1_000, timeoutMs: 500 };
/** The grouped count of SKA requests is read at most every ten seconds, so scrapes cannot load the database. */
const REQUESTS_SNAPSHOT = { ttlMs: 10_000, timeoutMs: 2_000 };
/** Seconds: an Ed25519 signature with a cached key takes tens of microseconds, SLH-DSA and RSA-4096 up to seconds. */
const OPERATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

export interface ServiceMetricsSources {
  prisma: PrismaClient;
  hsm: SoftHsm;
  queue: WorkflowQueue;
  role: 'api' | 'worker';
}

let processRegistry: Registry | null = null;

/** CPU, memory, event loop lag, GC and handles: they describe the process, so they are collected once in it. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly stopObserving: () => void;

  constructor({ prisma, hsm, queue, role }: ServiceMetricsSources) {
    const registers = [this.registry];
    new Gauge({
      name: 'tsb_build_info',
      help: 'OpenTSB version and process role (always 1)',
      labelNames: ['version', 'role'],
      registers,
    }).set({ version: SERVICE_VERSION, role }, 1);

    const operations = new Counter({
      name: 'tsb_hsm_operations_total',
      help: 'Completed HSM key operations by operation and key algorithm',
      labelNames: ['operation', 'algorithm'],
      registers,
    });
    const latency = new Histogram({
      name: 'tsb_hsm_operation_seconds',
      help: 'Duration of completed HSM key operations (key lookup, approval check, mechanism, use count) by operation and key algorithm',
      labelNames: ['operation', 'algorithm'],
      buckets: OPERATION_BUCKETS,
      registers,
    });
    this.stopObserving = hsm.operations.observe(({ operation, algorithm, seconds }) => {
      const labels = { operation, algorithm };
      operations.inc(labels);
      latency.observe(labels, seconds);
    });

    const cache = () => hsm.keyCacheStatistics();
    new Counter({
      name: 'tsb_key_cache_hits_total',
      help: 'Ready key objects served from the key cache',
      registers,
      collect() {
        this.reset();
        this.inc(cache().hits);
      },
    });
    new Counter({
      name: 'tsb_key_cache_misses_total',
      help: 'Key cache lookups that had to unseal and parse the key',
      registers,
      collect() {
        this.reset();
        this.inc(cache().misses);
      },
    });
    new Gauge({
      name: 'tsb_key_cache_entries',
      help: 'Ready key objects in the key cache',
      registers,
      collect() {
        this.set(cache().size);
      },
    });
    new Gauge({
      name: 'tsb_key_cache_capacity',
      help: 'Most ready key objects the key cache holds (TSB_KEY_CACHE_SIZE)',
      registers,
    }).set(cache().capacity);

    const queueCounts = new CachedSnapshot(() => queue.jobCounts(), QUEUE_SNAPSHOT);
    new Gauge({
      name: 'tsb_workflow_queue_up',
      help: '1 when Redis answered the last queue depth query, else 0',
      registers,
      async collect() {
        this.set((await queueCounts.get()) ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tsb_workflow_queue_jobs',
      help: 'SKA workflow jobs in the queue by state (absent while Redis is unreachable)',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        const counts = await queueCounts.get();
        for (const [state, count] of Object.entries(counts ?? {})) this.set({ state }, count);
      },
    });

    const requestCounts = new CachedSnapshot(async () => {
      const groups = await prisma.skaRequest.groupBy({ by: ['status'], _count: { _all: true } });
      return new Map(groups.map((group) => [group.status, group._count._all]));
    }, REQUESTS_SNAPSHOT);
    new Gauge({
      name: 'tsb_ska_requests',
      help: 'SKA requests by status, all partitions (read at most every 10 s; absent while the database is unreachable)',
      labelNames: ['status'],
      registers,
      async collect() {
        this.reset();
        const counts = await requestCounts.get();
        if (!counts) return;
        for (const status of REQUEST_STATUSES) this.set({ status }, counts.get(status) ?? 0);
      },
    });
    registerStatefulKeyMetrics(registers, hsm);
  }

  /** The Prometheus text exposition of this instance's and the process's metrics. */
  async render(): Promise<{ contentType: string; body: string }> {
    const merged = Registry.merge([processMetrics(), this.registry]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  }

  /** Stops listening to the HSM core (the app or worker is closing). */
  close(): void {
    this.stopObserving();
  }
}
