/**
 * The appender, with group commit: `append` buffers a record and resolves once the transaction that
 * holds it has committed. One flush runs at a time; it takes everything buffered, and every record that
 * arrives meanwhile waits for the next flush, which starts as soon as this one is done. A lone request
 * therefore waits for one transaction, and under load many requests share one, in order. The key uses a
 * request made (`UseCounter.deferInto`) are added to the key use counts in its entry's transaction.
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
}

interface Pending {
  record: AuditRecord;
  uses: ReadonlyMap<string, number> | undefined;
  resolve(): void;
  reject(error: Error): void;
}

export class AuditLog {
  private buffer: Pending[] = [];
  private running: Promise<void> | null = null;
  private readonly maxBatch: number;

  constructor(private readonly options: AuditLogOptions) {
    this.maxBatch = options.maxBatch ?? 1000;
  }

  /**
   * Resolves when the record, and the key uses given with it (uses per key id), are committed; rejects
   * (TsbError SERVICE_UNAVAILABLE) when they could not be.
   */
  append(record: AuditRecord, uses?: ReadonlyMap<string, number>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.buffer.push({ record, uses, resolve, reject });
      // setImmediate: the records of every request answered in this turn of the event loop go together
      this.running ??= new Promise<void>((start) => setImmediate(start)).then(() => this.drain());
    });
  }

  /** Waits until everything appended so far is committed (or refused). */
  async close(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.buffer.length > 0) {
        const batch = this.buffer;
        this.buffer = [];
        const chains = new Map<string, Pending[]>();
        for (const pending of batch) {
          const list = chains.get(pending.record.chain);
          if (list) list.push(pending);
          else chains.set(pending.record.chain, [pending]);
        }
        await Promise.all(
          [...chains].map(async ([chain, pending]) => {
            for (let start = 0; start < pending.length; start += this.maxBatch)
              await this.flushChain(chain, pending.slice(start, start + this.maxBatch));
          }),
        );
      }
    } finally {
      this.running = null;
    }
  }

  private async flushChain(chain: string, pending: Pending[]): Promise<void> {
    let entries: AuditEntry[];
    try {
      entries = await this.options.writer.append(
        chain,
        pending.map((p) => p.record),
        keyUsesOf(pending),
      );
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
