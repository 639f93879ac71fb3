/** The tamper-evident audit log (docs/audit-log.md): the appender and the export/verify service of one process. */
import type { Config } from '../../config.js';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService, attestationCheckpointSigner } from './audit.service.js';
import { AuditLog } from './audit-log.js';
import { AuditRetention } from './audit-retention.js';
import { AuditRetentionRepository } from './audit-retention.repository.js';
import { shutdownAuditVerifyPool } from './audit-verify-pool.js';
import { AuditWriter } from './audit-writer.js';
import { RefusalSummaries } from './refusal-summaries.js';

export interface Audit {
  log: AuditLog;
  /** refused unauthenticated requests, counted and logged once per address, reason and window */
  refusals: RefusalSummaries;
  service: AuditService;
  /** waits for the entries still being written and stops the verification worker */
  close(): Promise<void>;
}

/** The audit log's retention, run by the workflow worker's retention pass; null when the log is kept for ever. */
export function createAuditRetention(deps: {
  prisma: PrismaClient;
  hsm: SoftHsm;
  config: Pick<Config, 'audit'>;
  log: { warn(details: object, message: string): void };
}): AuditRetention | null {
  const { retentionDays } = deps.config.audit;
  if (retentionDays === 0) return null;
  return new AuditRetention(new AuditRetentionRepository(deps.prisma), deps.hsm, retentionDays, deps.log);
}

export function createAudit(deps: {
  prisma: PrismaClient;
  hsm: SoftHsm;
  config: Pick<Config, 'audit' | 'databaseUrl'>;
  log?: { error(details: object, message: string): void };
}): Audit {
  const repository = new AuditRepository(deps.prisma);
  const writer = new AuditWriter(deps.config.databaseUrl, (error) =>
    deps.log?.error({ err: error }, 'an audit log database connection failed'),
  );
  const signer = attestationCheckpointSigner(deps.hsm);
  const log = new AuditLog({
    writer,
    repository,
    signer,
    clock: deps.hsm.clock,
    checkpointEvery: deps.config.audit.checkpointEvery,
    ...(deps.log ? { log: deps.log } : {}),
  });
  const refusals = new RefusalSummaries({
    log,
    ...deps.config.audit.refusalSummary,
    onError: (error) =>
      deps.log?.error(
        { err: error },
        'a summary of refused requests could not be logged; retried next window',
      ),
  });
  return {
    log,
    refusals,
    service: new AuditService(repository, signer, deps.hsm.clock, deps.config.audit.checkpointEvery),
    close: async () => {
      await refusals.close();
      await log.close();
      await Promise.all([writer.close(), shutdownAuditVerifyPool()]);
    },
  };
}
