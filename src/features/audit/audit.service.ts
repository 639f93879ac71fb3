import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../../clock.js';
import type { Partition } from '../../generated/prisma/client.js';
import type { AuditRepository } from './audit.repository.js';
import { type AuditCheckpoint, type AuditEntry, type AuditPrune, SERVICE_CHAIN } from './audit-chain.js';
import {
  type AuditHeaderLine,
  type AuditLine,
  checkpointLine,
  EXPORT_FORMAT,
  entryLine,
  PRUNED_EXPORT_FORMAT,
  prunedLine,
} from './audit-lines.js';
import type { CheckpointSigner } from './audit-log.js';
import type { AuditVerification } from './audit-verifier.js';
import { verifyOffThread } from './audit-verify-pool.js';

/** Whose chain: a partition (its id is the chain) or null for the service chain. */
export type ChainOwner = Pick<
  Partition,
  'id' | 'name' | 'attestationPublicKey' | 'attestationCertificate'
> | null;

/** The parts of the HSM core the signer needs (SoftHsm has them). */
export interface AttestationSigning {
  partition(partitionId: string): Promise<Partition>;
  signWithAttestationKey(partition: Partition, data: Buffer): Promise<Buffer>;
}

/** Checkpoints of a partition's chain are signed by its attestation key; the service chain stays unsigned. */
export function attestationCheckpointSigner(hsm: AttestationSigning): CheckpointSigner {
  return {
    async sign(chain, statement) {
      if (chain === SERVICE_CHAIN) return null;
      return hsm.signWithAttestationKey(await hsm.partition(chain), statement);
    },
  };
}

const PAGE = 2_000;
const DUE_CHECKPOINT_WAIT_MS = 1_000;

const pem = (label: string, der: Uint8Array) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;

const chainOf = (owner: ChainOwner) => owner?.id ?? SERVICE_CHAIN;

/** Export and verification of a chain. */
export class AuditService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly signer: CheckpointSigner,
    private readonly clock: Clock,
    /** TSB_AUDIT_CHECKPOINT_EVERY: the period the head's checkpoint states */
    private readonly checkpointEvery: number,
  ) {}

  /**
   * The chain as JSON lines (docs/audit-log.md): the head is read and, when it has no checkpoint yet,
   * signed before this resolves, so a database failure is an error here, not a cut-off stream.
   * Entries appended later are not part of this export. A chain the retention pruned starts with its prune
   * statement and the entry that names (audit-retention.ts waits an hour before it deletes what a newer
   * statement prunes, so an export that read the older one still finds its entries).
   */
  async export(owner: ChainOwner): Promise<AsyncIterable<string>> {
    const chain = chainOf(owner);
    const prune = await this.repository.prune(chain);
    const from = prune?.sequence ?? 1;
    const head = await this.repository.head(chain);
    const upTo = head?.sequence ?? 0;
    let checkpoints = upTo > 0 ? await this.repository.checkpoints(chain, upTo, from) : [];
    if (head && upTo > 0 && checkpoints.at(-1)?.sequence !== upTo) {
      await this.awaitDueCheckpoint(chain, upTo, checkpoints.at(-1)?.sequence ?? 0);
      const fresh = await this.repository.signCheckpoint(
        { chain, ...head },
        this.checkpointEvery,
        this.clock.now(),
        (statement) => this.signer.sign(chain, statement),
      );
      if (fresh) checkpoints = await this.repository.checkpoints(chain, upTo, from);
    }
    const header: AuditHeaderLine = {
      type: 'header',
      format: prune ? PRUNED_EXPORT_FORMAT : EXPORT_FORMAT,
      chain,
      partition: owner ? { id: owner.id, name: owner.name } : null,
      attestationPublicKey: owner ? pem('PUBLIC KEY', owner.attestationPublicKey) : null,
      attestationCertificate: owner?.attestationCertificate
        ? pem('CERTIFICATE', owner.attestationCertificate)
        : null,
      exportedAt: this.clock.now().toISOString(),
    };
    return this.lines(header, prune, upTo, checkpoints);
  }

  /**
   * Verifies an export against the partition's own attestation key (never the key the file names),
   * in a worker thread.
   */
  async verify(owner: ChainOwner, text: string): Promise<AuditVerification> {
    const report = await verifyOffThread({ text, publicKeySpki: owner?.attestationPublicKey ?? null });
    const chain = chainOf(owner);
    if (report.chain !== null && report.chain !== chain) {
      report.notes.push(`the log is of chain "${report.chain}", not of the caller's partition (${chain})`);
    }
    return report;
  }

  /**
   * The periodic checkpoint below the head may still be being signed by the flush that committed it
   * (in this or another process): the head's checkpoint links to the one before it, so it waits a moment
   * for that one rather than link past it. Never signs it itself (see AuditLog.checkpoint).
   */
  private async awaitDueCheckpoint(chain: string, head: number, lastCheckpoint: number): Promise<void> {
    const due = Math.floor(head / this.checkpointEvery) * this.checkpointEvery;
    if (due <= lastCheckpoint || due === head) return;
    for (let waited = 0; waited < DUE_CHECKPOINT_WAIT_MS; waited += 50) {
      if (await this.repository.checkpointAt(chain, due)) return;
      await sleep(50);
    }
  }

  private async *lines(
    header: AuditHeaderLine,
    prune: AuditPrune | null,
    upTo: number,
    checkpoints: AuditCheckpoint[],
  ): AsyncGenerator<string> {
    const text = (lines: AuditLine[]) => lines.map((line) => `${JSON.stringify(line)}\n`).join('');
    yield text(prune ? [header, prunedLine(prune)] : [header]);
    let next = 0;
    let after = prune ? prune.sequence - 1 : 0;
    while (after < upTo) {
      const page: AuditEntry[] = await this.repository.entries(header.chain, after, upTo, PAGE);
      if (page.length === 0) break;
      const lines: AuditLine[] = [];
      for (const entry of page) {
        lines.push(entryLine(entry));
        while (next < checkpoints.length && checkpoints[next]!.sequence <= entry.sequence)
          lines.push(checkpointLine(checkpoints[next++]!));
      }
      yield text(lines);
      after = page[page.length - 1]!.sequence;
    }
    // checkpoints whose entry is gone still belong in the export: they show what was removed
    if (next < checkpoints.length) yield text(checkpoints.slice(next).map(checkpointLine));
  }
}
