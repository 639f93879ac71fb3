/**
 * The composition root: the services of a process, built in one place from the validated configuration,
 * a Prisma client and a logger. The API server (through `buildApp`), the worker and the tests build through
 * these functions, the CLI through command-services.ts; nothing else constructs a service.
 */
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { Workflow } from './features/approvals/workflow.js';
import { type Audit, createAudit, createAuditRetention } from './features/audit/audit-system.js';
import type { PrismaClient } from './generated/prisma/client.js';
import { SoftHsm } from './hsm/soft-hsm.js';
import { RateLimiter } from './http/rate-limiter.js';
import type { Logger } from './lib/logger.js';
import { OutageLog } from './lib/outage-log.js';
import { ServiceMetrics } from './observability/metrics.js';
import { warnStatefulExhaustion } from './observability/stateful-warnings.js';

/** The HSM core of a service process (API or worker); `clock` only for tests. */
export function buildHsm(
  config: Readonly<Config>,
  prisma: PrismaClient,
  masterKey: Buffer,
  options: { clock?: Clock } = {},
): SoftHsm {
  return new SoftHsm({
    prisma,
    masterKey,
    keyCacheSize: config.keyCacheSize,
    approvalWindow: config.workflow.approvalWindow,
    ...options,
  });
}

interface ServiceDependencies {
  config: Readonly<Config>;
  prisma: PrismaClient;
  hsm: SoftHsm;
  log: Logger;
}

/** The SKA workflow: request and approval services, engine and queue (its worker loop starts on demand). */
export function buildWorkflow({ config, prisma, hsm, log }: ServiceDependencies): Workflow {
  const auditRetention = createAuditRetention({ prisma, hsm, config, log });
  return new Workflow({ prisma, hsm, config, log, auditRetention });
}

/** What the HTTP API serves with besides the HSM; `close` ends what was built here, last built first. */
export interface ApiServices {
  workflow: Workflow;
  metrics: ServiceMetrics;
  audit: Audit;
  /** null when neither authenticated nor unauthenticated requests are limited */
  limiter: RateLimiter | null;
  close(): Promise<void>;
}

/** The services of the API; a given workflow (tests share one) is used, not built, and not closed here. */
export function buildApiServices(deps: ServiceDependencies & { workflow?: Workflow }): ApiServices {
  const { config, prisma, hsm, log } = deps;
  const workflow = deps.workflow ?? buildWorkflow(deps);
  const metrics = new ServiceMetrics({ prisma, hsm, queue: workflow.queue, role: 'api' });
  const audit = createAudit({ prisma, hsm, config, log });
  const limiter = buildRateLimiter(config, log);
  const stopWarnings = warnStatefulExhaustion(hsm, log);
  return {
    workflow,
    metrics,
    audit,
    limiter,
    close: async () => {
      await limiter?.close();
      await audit.close();
      stopWarnings();
      metrics.close();
      if (!deps.workflow) await workflow.close();
    },
  };
}

function buildRateLimiter(config: Readonly<Config>, log: Logger): RateLimiter | null {
  const { max, windowSeconds, unauthenticatedMax } = config.rateLimit;
  if (max <= 0 && unauthenticatedMax <= 0) return null;
  const outage = new OutageLog(log, 'Redis (rate limit: requests go through uncounted)');
  return new RateLimiter({
    redisUrl: config.redisUrl,
    prefix: config.workflow.queuePrefix,
    max,
    windowSeconds,
    onRedisUnavailable: (error) => outage.failed(error),
    onRedisAvailable: () => outage.recovered(),
  });
}

/** The services of `npm run worker`: the workflow and its metrics. */
export function buildWorkerServices(deps: ServiceDependencies): {
  workflow: Workflow;
  metrics: ServiceMetrics;
} {
  const workflow = buildWorkflow(deps);
  return {
    workflow,
    metrics: new ServiceMetrics({
      prisma: deps.prisma,
      hsm: deps.hsm,
      queue: workflow.queue,
      role: 'worker',
    }),
  };
}
