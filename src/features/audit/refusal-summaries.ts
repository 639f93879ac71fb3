/**
 * Refused unauthenticated requests (no credentials, bad credentials, or the address's rate limit) are not
 * logged one entry each: anyone can send them, and each entry is a row. They are counted in memory per
 * (client address, status, errorCode) and window, and every window ends in one entry of the service
 * chain per such key, with the count and the times of the first and the last request. A window holds
 * at most `maxAddresses` keys; refusals of further keys are counted under the address "*". So a flood
 * adds at most `maxAddresses` + one entry per reason per window and process, however fast it is.
 * A crash loses the counts of the window in progress (what has not been flushed yet).
 */
import { type AuditRecord, SERVICE_CHAIN } from './audit-chain.js';
import type { AuditLog } from './audit-log.js';

/** The action of a summary entry: it stands for requests to any route. */
export const REFUSAL_SUMMARY_ACTION = 'refused unauthenticated requests';
/** The address refusals are counted under once a window holds `maxAddresses` addresses. */
export const OTHER_ADDRESSES = '*';

export interface Refusal {
  clientAddress: string;
  statusCode: number;
  errorCode: number | null;
  at: Date;
}

interface Tally {
  clientAddress: string;
  statusCode: number;
  errorCode: number | null;
  firstAt: Date;
  lastAt: Date;
  count: number;
}

export interface RefusalSummaryOptions {
  log: Pick<AuditLog, 'append'>;
  windowSeconds: number;
  /** distinct keys one window counts apart; further ones are counted under OTHER_ADDRESSES */
  maxAddresses: number;
  onError?: (error: unknown) => void;
}

const MAX_ADDRESS = 64;

export class RefusalSummaries {
  private window = new Map<string, Tally>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: RefusalSummaryOptions) {
    this.timer = setInterval(() => void this.flush(), options.windowSeconds * 1000);
    this.timer.unref();
  }

  count(refusal: Refusal): void {
    const { at, ...reason } = refusal;
    this.merge({ ...reason, firstAt: at, lastAt: at, count: 1 });
  }

  /** Appends one entry per key of the window so far and starts a new window; resolves when committed. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  /** Stops the timer and writes what is counted. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.window.size === 0) return;
    const tallies = [...this.window.values()];
    this.window = new Map();
    const results = await Promise.allSettled(
      tallies.map((tally) => this.options.log.append(recordOf(tally))),
    );
    const failed = results.flatMap((result, i) => (result.status === 'rejected' ? [tallies[i]!] : []));
    if (failed.length === 0) return;
    this.options.onError?.((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason);
    // not written: counted again in the next window (still within its bound of keys)
    for (const tally of failed) this.merge(tally);
  }

  private merge(tally: Tally): void {
    let clientAddress = tally.clientAddress.slice(0, MAX_ADDRESS);
    let key = `${clientAddress}|${tally.statusCode}|${tally.errorCode}`;
    if (!this.window.has(key) && this.window.size >= this.options.maxAddresses) {
      clientAddress = OTHER_ADDRESSES;
      key = `${clientAddress}|${tally.statusCode}|${tally.errorCode}`;
    }
    const known = this.window.get(key);
    if (!known) {
      this.window.set(key, { ...tally, clientAddress });
      return;
    }
    known.count += tally.count;
    if (tally.firstAt < known.firstAt) known.firstAt = tally.firstAt;
    if (tally.lastAt > known.lastAt) known.lastAt = tally.lastAt;
  }
}

function recordOf(tally: Tally): AuditRecord {
  return {
    chain: SERVICE_CHAIN,
    partitionId: null,
    at: tally.lastAt,
    credentialId: null,
    roles: [],
    action: REFUSAL_SUMMARY_ACTION,
    keyLabel: null,
    requestId: null,
    outcome: 'failure',
    statusCode: tally.statusCode,
    errorCode: tally.errorCode,
    summary: { firstAt: tally.firstAt, count: tally.count, clientAddress: tally.clientAddress },
  };
}
