import type { AuditEntry as EntryRow, PrismaClient } from '../generated/prisma/client.js';
import { toBytes } from '../lib/encoding.js';
import type { AuditCheckpoint, AuditEntry } from './audit-chain.js';

export interface AuditHeadState {
  sequence: number;
  hash: Buffer;
}

const toEntry = (row: EntryRow): AuditEntry => ({
  ...row,
  sequence: Number(row.sequence),
  prevHash: Buffer.from(row.prevHash),
  hash: Buffer.from(row.hash),
});

/** Reads of the audit tables, and the checkpoints (entries are appended by AuditWriter). */
export class AuditRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async head(chain: string): Promise<AuditHeadState | null> {
    const row = await this.prisma.auditHead.findUnique({ where: { chain } });
    return row ? { sequence: Number(row.sequence), hash: Buffer.from(row.hash) } : null;
  }

  /** Entries after `after` up to `upTo`, in sequence order, at most `take`. */
  async entries(chain: string, after: number, upTo: number, take: number): Promise<AuditEntry[]> {
    const rows = await this.prisma.auditEntry.findMany({
      where: { chain, sequence: { gt: BigInt(after), lte: BigInt(upTo) } },
      orderBy: { sequence: 'asc' },
      take,
    });
    return rows.map(toEntry);
  }

  async checkpoints(chain: string, upTo: number): Promise<AuditCheckpoint[]> {
    const rows = await this.prisma.auditCheckpoint.findMany({
      where: { chain, sequence: { lte: BigInt(upTo) } },
      orderBy: { sequence: 'asc' },
    });
    return rows.map((row) => ({
      chain: row.chain,
      sequence: Number(row.sequence),
      hash: Buffer.from(row.hash),
      at: row.at,
      signature: Buffer.from(row.signature),
    }));
  }

  /** Stores checkpoints; one that exists for the same sequence already (another process signed it) stays. */
  async storeCheckpoints(checkpoints: readonly AuditCheckpoint[]): Promise<void> {
    if (checkpoints.length === 0) return;
    await this.prisma.auditCheckpoint.createMany({
      data: checkpoints.map((checkpoint) => ({
        chain: checkpoint.chain,
        sequence: BigInt(checkpoint.sequence),
        hash: toBytes(checkpoint.hash),
        at: checkpoint.at,
        signature: toBytes(checkpoint.signature),
      })),
      skipDuplicates: true,
    });
  }
}
