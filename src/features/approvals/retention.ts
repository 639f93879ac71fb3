/**
 * What the service deletes as it ages, run by each workflow worker after its sweep, at most once a minute:
 * - ended SKA requests (with their tasks) TSB_REQUEST_RETENTION_DAYS after their last change: the client read
 *   the result long before (the TSB's clients delete a request once read, which only drops its result), and the
 *   audit log keeps who created, approved and ran it;
 * - the records of spent pre-signed approvals whose challenges no freshness window accepts again
 *   (hsm/approval-ledger.ts).
 * In batches, so that no pass holds many row locks or runs long; what is left waits for the next pass.
 */
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import type { Logger } from '../../lib/logger.js';
import type { RequestsRepository } from './requests.repository.js';

export const RETENTION_INTERVAL_MS = 60_000;
export const RETENTION_BATCH = 1_000;
const MAX_BATCHES_PER_PASS = 20;

export interface RetentionPass {
  requests: number;
  approvals: number;
}

export class Retention {
  private lastPassAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly repository: Pick<RequestsRepository, 'deleteEnded'>,
    private readonly hsm: Pick<SoftHsm, 'forgetExpiredApprovals'>,
    /** 0: ended requests are kept for ever */
    private readonly requestRetentionDays: number,
    private readonly log: Logger,
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
    if (requests + approvals > 0) {
      this.log.info({ requests, approvals }, 'deleted ended requests and expired records of spent approvals');
    }
    return { requests, approvals };
  }
}

async function drain(deleteSome: (limit: number) => Promise<number>): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < MAX_BATCHES_PER_PASS; batch++) {
    const count = await deleteSome(RETENTION_BATCH);
    deleted += count;
    if (count < RETENTION_BATCH) break;
  }
  return deleted;
}
