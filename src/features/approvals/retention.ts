/**
 * What the service deletes as it ages, run by each workflow worker after its sweep, at most once a minute:
 * - ended SKA requests (with their tasks) TSB_REQUEST_RETENTION_DAYS after their last change: the client read
 *   the result long before (the TSB's clients delete a request once read, which only drops its result), and the
 *   audit log keeps who created, approved and ran it;
 * - the records of spent pre-signed approvals whose challenges no freshness window accepts again
 *   (hsm/approval-ledger.ts);
 * - with TSB_AUDIT_RETENTION_DAYS, audit log entries behind a signed prune statement (audit/audit-retention.ts).
 * In batches, so that no pass holds many row locks or runs long; what is left waits for the next pass.
 */
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import type { Logger } from '../../lib/logger.js';
import type { RequestsRepository } from './requests.repository.js';

export const RETENTION_INTERVAL_MS = 60_000;
export const RETENTION_BATCH = 1_000;
const MAX_BATCHES_PER_PASS = 20;
/**
 * The audit log grows by a row per request (thousands a second under load): its small rows go in bigger batches,
 * up to a million a pass, so that the retention keeps pace with the busiest hour.
 */
export const AUDIT_RETENTION_BATCH = 10_000;
const AUDIT_MAX_BATCHES_PER_PASS = 100;

/** The audit log's retention (features/audit/audit-retention.ts), as this pass drives it. */
export interface AuditPruning {
  /** moves each chain's prune point; how many chains it moved */
  advance(): Promise<number>;
  /** deletes up to `limit` pruned entries and up to `limit` pruned checkpoints */
  deleteSome(limit: number): Promise<{ entries: number; checkpoints: number }>;
}

export interface RetentionPass {
  requests: number;
  approvals: number;
  /** audit chains whose prune point moved, and the audit entries and checkpoints deleted */
  auditChains: number;
  auditEntries: number;
  auditCheckpoints: number;
}

export class Retention {
  private lastPassAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly repository: Pick<RequestsRepository, 'deleteEnded'>,
    private readonly hsm: Pick<SoftHsm, 'forgetExpiredApprovals'>,
    /** 0: ended requests are kept for ever */
    private readonly requestRetentionDays: number,
    private readonly log: Logger,
    private readonly audit: AuditPruning | null = null,
  ) {}

  /**
   * Deletes what is due (by the database's clock, which the rows' times follow), unless a pass began less than
   * RETENTION_INTERVAL_MS before; null then.
   */
  async run(): Promise<RetentionPass | null> {
    const now = Date.now();
    if (now - this.lastPassAt < RETENTION_INTERVAL_MS) return null;
    this.lastPassAt = now;
    const days = this.requestRetentionDays;
    const requests = days === 0 ? 0 : await drain((limit) => this.repository.deleteEnded(days, limit));
    const approvals = await drain((limit) => this.hsm.forgetExpiredApprovals(limit));
    const audit = this.audit ? await this.pruneAudit(this.audit) : { chains: 0, entries: 0, checkpoints: 0 };
    if (requests + approvals > 0) {
      this.log.info({ requests, approvals }, 'deleted ended requests and expired records of spent approvals');
    }
    if (audit.chains + audit.entries + audit.checkpoints > 0) {
      this.log.info(
        { chains: audit.chains, entries: audit.entries, checkpoints: audit.checkpoints },
        'pruned the audit log by its retention',
      );
    }
    return {
      requests,
      approvals,
      auditChains: audit.chains,
      auditEntries: audit.entries,
      auditCheckpoints: audit.checkpoints,
    };
  }

  private async pruneAudit(audit: AuditPruning) {
    const chains = await audit.advance();
    let entries = 0;
    let checkpoints = 0;
    await drain(
      async (limit) => {
        const deleted = await audit.deleteSome(limit);
        entries += deleted.entries;
        checkpoints += deleted.checkpoints;
        return Math.max(deleted.entries, deleted.checkpoints);
      },
      AUDIT_RETENTION_BATCH,
      AUDIT_MAX_BATCHES_PER_PASS,
    );
    return { chains, entries, checkpoints };
  }
}

async function drain(
  deleteSome: (limit: number) => Promise<number>,
  batchSize = RETENTION_BATCH,
  maxBatches = MAX_BATCHES_PER_PASS,
): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < maxBatches; batch++) {
    const count = await deleteSome(batchSize);
    deleted += count;
    if (count < batchSize) break;
  }
  return deleted;
}
