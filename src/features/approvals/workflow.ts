/**
 * The Smart Key Attributes workflow: requests, approvals, and the BullMQ worker that moves requests on.
 * It talks to the HSM core only through the SoftHsm interface; PostgreSQL holds the truth, Redis the timers.
 */

import type { Config } from '../../config.js';
import { sqlPoolOf } from '../../db/prisma.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import type { KeyChange } from '../../keystore/keys/key-changes.js';
import type { Logger } from '../../lib/logger.js';
import { OutageLog } from '../../lib/outage-log.js';
import { ApprovalsService } from './approvals.service.js';
import { WorkflowEngine } from './engine.js';
import { WebhookNotifier } from './notifier.js';
import { WorkflowQueue } from './queue.js';
import { RequestEndings } from './request-endings.js';
import { RequestsRepository } from './requests.repository.js';
import { RequestsService } from './requests.service.js';
import { type AuditPruning, Retention } from './retention.js';
import { SignedTimestamps } from './signed-timestamps.js';

export interface WorkflowDependencies {
  prisma: PrismaClient;
  hsm: SoftHsm;
  config: Pick<Config, 'redisUrl' | 'workflow'>;
  log: Logger;
  /** the audit log's retention, run with the workflow's (null or absent: the log is kept for ever) */
  auditRetention?: AuditPruning | null;
}

const WORKER_CONCURRENCY = 16;
const CANCEL_REASON: Record<KeyChange['kind'], string> = {
  blocked: 'cancelled: the key was blocked',
  policy: 'cancelled: the key policy changed',
  destroyed: 'cancelled: the key was destroyed',
};

export class Workflow {
  readonly queue: WorkflowQueue;
  readonly engine: WorkflowEngine;
  readonly requests: RequestsService;
  readonly approvals: ApprovalsService;
  private readonly notifier: WebhookNotifier;
  private readonly signedTimestamps: SignedTimestamps;
  private readonly endings: RequestEndings;
  private readonly retention: Retention;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<unknown> | null = null;
  private readonly stopRearm = new AbortController();
  /**
   * The re-arming of every open request's timers that `startWorker` began: how many it re-armed (0 when it
   * failed; the sweep catches up). In the background, so that a process with many open requests starts at once.
   */
  rearmed: Promise<number> = Promise.resolve(0);

  constructor(private readonly deps: WorkflowDependencies) {
    const { prisma, hsm, config, log } = deps;
    const repository = new RequestsRepository(prisma);
    this.endings = new RequestEndings(sqlPoolOf(prisma).options, log);
    this.queue = new WorkflowQueue({ redisUrl: config.redisUrl, prefix: config.workflow.queuePrefix });
    this.signedTimestamps = new SignedTimestamps({
      redisUrl: config.redisUrl,
      prefix: config.workflow.queuePrefix,
      window: config.workflow.approvalWindow,
    });
    this.engine = new WorkflowEngine(repository, hsm, this.queue, log, this.endings);
    this.requests = new RequestsService(repository, hsm, this.engine, config.workflow.maxOpenRequests);
    this.approvals = new ApprovalsService(
      repository,
      hsm,
      this.engine,
      this.queue,
      config.workflow.approvalWindow,
      config.workflow.timestampSignerCertificateFiles,
      config.workflow.executionWaitMs,
      this.signedTimestamps,
    );
    this.notifier = new WebhookNotifier(prisma, hsm);
    this.retention = new Retention(
      repository,
      hsm,
      config.workflow.requestRetentionDays,
      log,
      deps.auditRetention ?? null,
    );
    hsm.keys.onChange((change) => this.engine.cancelForKey(change, CANCEL_REASON[change.kind]));
  }

  /**
   * Starts this process's worker: re-arms every open request's timers in the background (`rearmed`), and sweeps
   * the database now and then from now on (deleting, once a minute, what has aged out: retention.ts).
   */
  async startWorker(): Promise<void> {
    const { log, config } = this.deps;
    this.queue.startWorker(
      async (name, data) => {
        if (name === 'notify') await this.notifier.deliver(data.requestId, data.event ?? 'ended');
        else if (name === 'execute') await this.engine.executeDue(data.requestId);
        else await this.engine.evaluate(data.requestId);
      },
      WORKER_CONCURRENCY,
      new OutageLog(log, 'Redis (workflow worker)'),
    );
    this.rearmed = this.engine.rearm(this.stopRearm.signal).then(
      (rearmed) => {
        log.info({ rearmed }, 're-armed the timers of open requests');
        return rearmed;
      },
      (error: unknown) => {
        log.warn({ err: error }, 'could not re-arm request timers; the database sweep will catch up');
        return 0;
      },
    );
    log.info('workflow worker started');
    this.sweepTimer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.engine
        .sweep()
        .then(() => this.retention.run())
        .catch((error: unknown) => log.warn({ err: error }, 'workflow sweep failed'))
        .finally(() => {
          this.sweeping = null;
        });
    }, config.workflow.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  /** Stops taking jobs, lets running ones finish, and closes the Redis connections. */
  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.stopRearm.abort();
    await this.rearmed;
    await this.sweeping;
    await this.queue.close();
    this.signedTimestamps.close();
    await this.endings.close();
  }
}
