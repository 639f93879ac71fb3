/**
 * The appender, with group commit: `append` buffers a record and resolves once the transaction that
 * holds it has committed. A flush takes everything buffered; records that arrive meanwhile wait for the
 * next flush, which starts as soon as this one is done, or at once when enough records wait (MIN_OVERLAP)
 * (up to MAX_IN_FLIGHT flushes then overlap: a later batch is linked after the earlier one's entries before
 * those commit, and its statement waits in PostgreSQL for the earlier one's head update, so the commits
 * stay in order and a failed batch makes the ones linked after it take the locked path). A lone request
 * therefore waits for one transaction, and under load many requests share one, in order. Flushes finish
 * (answers, checkpoints) in the order they started. The key uses a request made
 * (`UseCounter.deferInto`) are added to the key use counts in its entry's transaction.
 */
import type { Clock } from '../../clock.js';
import { TsbError } from '../../errors.js';
import type { AuditRepository } from './audit.repository.js';
import type { AuditEntry, AuditRecord } from './audit-chain.js';
import type { AuditWriter, KeyUses } from './audit-writer.js';

/** Signs checkpoint statements of a chain; null when the chain has no signing key (the service chain). */
export interface CheckpointSigner {
  sign(chain: string, statement: Buffer): Promise<Buffer | null>;
}

export interface AuditLogOptions {
  writer: Pick<AuditWriter, 'append'>;
  /** where checkpoints are signed and stored */
  repository: Pick<AuditRepository, 'signCheckpoint'>;
  signer: CheckpointSigner;
  clock: Clock;
  /** a signed checkpoint after every this many entries of a chain */
  checkpointEvery: number;
  log?: { error(details: object, message: string): void };
  /** most records of one chain in one transaction (default 1000) */
  maxBatch?: number;
  /** most flushes in flight (default MAX_IN_FLIGHT; 1 = one commit at a time) */
  maxInFlight?: number;
}

interface Pending {
  record: AuditRecord;
  uses: ReadonlyMap<string, number> | undefined;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A flush beyond the first starts only once as many records wait as the flush started last took, and at
 * least this many: small batches cost more commits (with a threshold of 1 ms in flight instead,
 * bench/audit-ab.ts measured 3 × the transactions and fewer req/s). Matching the batch in flight keeps the
 * overlapping batches about equal, so overlap at most doubles the commits per record; with this floor alone
 * (16), 64 clients made 0.050 transactions per request against 0.036–0.041 and 5–10 % fewer req/s
 * (bench/results/README.md, twelfth session).
 */
const MIN_OVERLAP = 16;
/** most flushes in flight (the writer's pool has one connection more, for the locked path) */
const MAX_IN_FLIGHT = 3;

export class AuditLog {
  private buffer: Pending[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** the completion of the flush started last: each flush finishes after the one before it */
  private last: Promise<void> = Promise.resolve();
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  /** how many records the flush started last took */
  private lastFlushSize = 0;

  constructor(private readonly options: AuditLogOptions) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.maxInFlight = options.maxInFlight ?? MAX_IN_FLIGHT;
  }

  /**
   * Resolves when the record, and the key uses given with it (uses per key id), are committed; rejects
   * (TsbError SERVICE_UNAVAILABLE) when they could not be.
   */
  append(record: AuditRecord, uses?: ReadonlyMap<string, number>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.buffer.push({ record, uses, resolve, reject });
      this.schedule();
    });
  }

  /** Waits until everything appended so far is committed (or refused). */
  async close(): Promise<void> {
    while (this.inFlight > 0 || this.buffer.length > 0 || this.scheduled) {
      await this.last;
      if (this.inFlight === 0 && this.buffer.length > 0 && !this.scheduled) this.schedule();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    const may =
      this.inFlight === 0 ||
      (this.inFlight < this.maxInFlight && this.buffer.length >= Math.max(MIN_OVERLAP, this.lastFlushSize));
    if (!may) return;
    this.scheduled = true;
    // setImmediate: the records of every request answered in this turn of the event loop go together
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.lastFlushSize = batch.length;
    this.inFlight += 1;
    const chains = new Map<string, Pending[]>();
    for (const pending of batch) {
      const list = chains.get(pending.record.chain);
      if (list) list.push(pending);
      else chains.set(pending.record.chain, [pending]);
    }
    // the statements go out now (in this order); answers and checkpoints wait for the flushes before
    const before = this.last;
    const written = [...chains].flatMap(([chain, pending]) => {
      const parts: { chain: string; pending: Pending[]; entries: Promise<AuditEntry[]> }[] = [];
      for (let start = 0; start < pending.length; start += this.maxBatch) {
        const part = pending.slice(start, start + this.maxBatch);
        const entries = this.options.writer.append(
          chain,
          part.map((p) => p.record),
          keyUsesOf(part),
        );
        entries.catch(() => {}); // handled in finish, after the flushes before it
        parts.push({ chain, pending: part, entries });
      }
      return parts;
    });
    this.last = (async () => {
      await before;
      await Promise.all(written.map((part) => this.finishPart(part.chain, part.pending, part.entries)));
    })().finally(() => {
      this.inFlight -= 1;
      if (this.buffer.length > 0) this.schedule();
    });
  }

  private async finishPart(chain: string, pending: Pending[], written: Promise<AuditEntry[]>): Promise<void> {
    let entries: AuditEntry[];
    try {
      entries = await written;
    } catch (cause) {
      this.options.log?.error({ err: cause, chain }, 'the audit log could not be written');
      const error = new TsbError(
        'SERVICE_UNAVAILABLE',
        'the audit log could not record this request, so its answer is withheld; try again shortly',
      );
      for (const p of pending) p.reject(error);
      return;
    }
    for (const p of pending) p.resolve();
    await this.checkpoint(
      chain,
      entries.filter((entry) => entry.sequence % this.options.checkpointEvery === 0),
    );
  }

  /**
   * Signs and stores the checkpoints of entries this flush has just committed; a failure only costs
   * coverage, so it is logged. A checkpoint is only ever signed here, for a new entry, or by the export for
   * the head: one that is missing (a crash between commit and signature, or a deletion) stays missing,
   * because signing it later would vouch for whatever the table holds by then.
   */
  private async checkpoint(chain: string, entries: AuditEntry[]): Promise<void> {
    try {
      for (const entry of entries) {
        const signed = await this.options.repository.signCheckpoint(
          entry,
          this.options.checkpointEvery,
          this.options.clock.now(),
          (statement) => this.options.signer.sign(chain, statement),
        );
        if (!signed) return;
      }
    } catch (cause) {
      this.options.log?.error({ err: cause, chain }, 'an audit checkpoint could not be signed or stored');
    }
  }
}

/** The key uses of a batch, summed per key (one row per key for the UPDATE). */
function keyUsesOf(pending: readonly Pending[]): KeyUses {
  const sums = new Map<string, number>();
  for (const { uses } of pending) {
    if (!uses) continue;
    for (const [id, count] of uses) sums.set(id, (sums.get(id) ?? 0) + count);
  }
  return { ids: [...sums.keys()], counts: [...sums.values()] };
}
