/**
 * The audit log's retention (TSB_AUDIT_RETENTION_DAYS, docs/audit-log.md "Retention"): a chain's entries and
 * checkpoints older than the retention are deleted behind a prune statement signed by the partition's
 * attestation key, which names the entry the kept log starts at (a checkpointed entry whose checkpoint was
 * signed more than the retention ago) and that checkpoint. A verifier then checks the log from that entry on, and
 * still finds every entry deleted without such a statement.
 *
 * A chain is pruned only to a checkpoint whose signature verifies and whose entry is the one it signed, so the
 * service never signs away evidence that the kept history was changed. What a statement prunes is deleted an
 * hour after it was signed, so that an export that read the chain's previous statement still finds its entries.
 * Ages are taken by the earlier of this process's clock and the database server's: one clock set ahead (by
 * mistake, or by whoever can move it) does not age the log out.
 */
import { createPublicKey } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { TsbError } from '../../errors.js';
import type { Partition } from '../../generated/prisma/client.js';
import {
  type AuditCheckpoint,
  type AuditEntry,
  type AuditPrune,
  checkpointHash,
  entryHash,
  GENESIS_HASH,
  pruneStatement,
  SERVICE_CHAIN,
} from './audit-chain.js';
import type { AuditRetentionRepository } from './audit-retention.repository.js';
import { checkpointProblem, fieldChanged } from './audit-verifier.js';

const DAY_MS = 86_400_000;
/** How long the rows a prune statement prunes are kept after it was signed (longer than any export takes). */
export const PRUNE_DELETE_DELAY_MS = 3_600_000;

/** The parts of the HSM core the retention needs (SoftHsm has them). */
export interface PruneSigning {
  readonly clock: Clock;
  partition(partitionId: string): Promise<Partition>;
  signWithAttestationKey(partition: Partition, data: Buffer): Promise<Buffer>;
}

export class AuditRetention {
  constructor(
    private readonly repository: AuditRetentionRepository,
    private readonly hsm: PruneSigning,
    /** TSB_AUDIT_RETENTION_DAYS (at least 1: the caller does not build this for 0, which keeps the log for ever) */
    private readonly days: number,
    private readonly log: { warn(details: object, message: string): void },
  ) {}

  /** Moves each chain's prune point to its newest entry that has aged out; how many chains it moved. */
  async advance(): Promise<number> {
    const cutoff = new Date((await this.now()).getTime() - this.days * DAY_MS);
    let moved = 0;
    for (const checkpoint of await this.repository.dueCheckpoints(cutoff)) {
      const prune = await this.signedPrune(checkpoint, cutoff);
      if (prune && (await this.repository.savePrune(prune))) moved += 1;
    }
    const serviceEntry = await this.repository.dueServiceEntry(cutoff);
    if (serviceEntry && !intact(serviceEntry)) {
      this.log.warn(
        { chain: SERVICE_CHAIN, sequence: serviceEntry.sequence },
        'the audit log is not pruned: an entry changed',
      );
    } else if (serviceEntry) {
      if (await this.repository.savePrune(this.unsignedPrune(serviceEntry, GENESIS_HASH))) moved += 1;
    }
    return moved;
  }

  /** Deletes up to `limit` entries and `limit` checkpoints that statements signed an hour ago or more pruned. */
  async deleteSome(limit: number): Promise<{ entries: number; checkpoints: number }> {
    const signedBefore = new Date((await this.now()).getTime() - PRUNE_DELETE_DELAY_MS);
    return this.repository.deletePruned(signedBefore, limit);
  }

  /** The earlier of this process's clock and the database's. */
  private async now(): Promise<Date> {
    const database = await this.repository.databaseNow();
    return new Date(Math.min(this.hsm.clock.now().getTime(), database.getTime()));
  }

  /**
   * The prune statement for the checkpoint's entry, signed; null (and a warning) when the chain may not be pruned
   * there. The checkpoint's signed time is before the cutoff; its entry's must be too (a checkpoint signed while the
   * service's clock was behind would otherwise age fresh entries out).
   */
  private async signedPrune(checkpoint: AuditCheckpoint, cutoff: Date): Promise<AuditPrune | null> {
    const { chain, sequence } = checkpoint;
    let partition: Partition;
    try {
      partition = await this.hsm.partition(chain);
    } catch (error) {
      if (error instanceof TsbError) return null; // the chain of a partition that is gone: nothing signs for it
      throw error;
    }
    const entry = await this.repository.entry(chain, sequence);
    const publicKey = createPublicKey({
      key: Buffer.from(partition.attestationPublicKey),
      format: 'der',
      type: 'spki',
    });
    // as a verifier would judge the checkpoint and its entry
    const problem =
      entry && !intact(entry)
        ? fieldChanged(sequence).problem
        : (checkpointProblem(checkpoint, entry ?? undefined, publicKey)?.problem ??
          (entry && entry.at > cutoff
            ? `checkpoint ${sequence} is dated ${checkpoint.at.toISOString()}, but its entry ${entry.at.toISOString()}, after the cutoff (a clock was behind)`
            : null));
    if (!entry || problem) {
      this.log.warn({ chain, sequence }, `the audit log is not pruned: ${problem}`);
      return null;
    }
    const unsigned = this.unsignedPrune(entry, checkpointHash(checkpoint));
    return {
      ...unsigned,
      signature: await this.hsm.signWithAttestationKey(partition, pruneStatement(unsigned)),
    };
  }

  /** The statement that the kept log starts at `entry`, dated now, with no signature (yet). */
  private unsignedPrune(entry: AuditEntry, checkpointHashOfEntry: Buffer): AuditPrune {
    return {
      chain: entry.chain,
      sequence: entry.sequence,
      hash: entry.hash,
      checkpointHash: checkpointHashOfEntry,
      at: this.hsm.clock.now(),
      signature: Buffer.alloc(0),
    };
  }
}

/** The entry matches its own hash (its predecessor is about to be deleted: nothing else can check it then). */
const intact = (entry: AuditEntry): boolean => entryHash(entry).equals(entry.hash);
