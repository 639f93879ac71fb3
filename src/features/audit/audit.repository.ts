import type {
  AuditCheckpoint as CheckpointRow,
  AuditEntry as EntryRow,
  PrismaClient,
} from '../../generated/prisma/client.js';
import { toBytes } from '../../lib/encoding.js';
import {
  type AuditCheckpoint,
  type AuditEntry,
  type CheckpointLink,
  checkpointHash,
  checkpointStatement,
  GENESIS_HASH,
} from './audit-chain.js';

export interface AuditHeadState {
  sequence: number;
  hash: Buffer;
}

const toEntry = ({ count, firstAt, clientAddress, ...row }: EntryRow): AuditEntry => ({
  ...row,
  sequence: Number(row.sequence),
  prevHash: Buffer.from(row.prevHash),
  hash: Buffer.from(row.hash),
  summary:
    count === null || firstAt === null || clientAddress === null ? null : { count, firstAt, clientAddress },
});

const toCheckpoint = (row: CheckpointRow): AuditCheckpoint => ({
  chain: row.chain,
  sequence: Number(row.sequence),
  hash: Buffer.from(row.hash),
  at: row.at,
  signature: Buffer.from(row.signature),
  link:
    row.every === null || row.previousSequence === null || row.previousHash === null
      ? null
      : {
          every: row.every,
          previousSequence: Number(row.previousSequence),
          previousHash: Buffer.from(row.previousHash),
        },
});

/** Key (with the chain's hashtext) of the advisory lock that makes a chain's checkpoints one at a time: "AUDT". */
const CHECKPOINT_LOCK = 0x41554454;

/** Signs a checkpoint statement; null when the chain is not signed. */
export type StatementSigner = (statement: Buffer) => Promise<Buffer | null>;

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
    return rows.map(toCheckpoint);
  }

  async checkpointAt(chain: string, sequence: number): Promise<AuditCheckpoint | null> {
    const row = await this.prisma.auditCheckpoint.findUnique({
      where: { chain_sequence: { chain, sequence: BigInt(sequence) } },
    });
    return row ? toCheckpoint(row) : null;
  }

  /**
   * Signs and stores the checkpoint of the entry (sequence, hash), linked to the chain's checkpoint with
   * the highest sequence below it. A chain's checkpoints are made one at a time across processes (an
   * advisory transaction lock), so the one read as "before" is still the one before when this commits.
   * Answers the checkpoint stored at that sequence (another process's when it came first), or null when
   * the chain is not signed.
   */
  async signCheckpoint(
    entry: { chain: string; sequence: number; hash: Buffer },
    every: number,
    at: Date,
    sign: StatementSigner,
  ): Promise<AuditCheckpoint | null> {
    const { chain, sequence, hash } = entry;
    return this.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CHECKPOINT_LOCK}::int, hashtext(${chain}))`;
        const existing = await tx.auditCheckpoint.findUnique({
          where: { chain_sequence: { chain, sequence: BigInt(sequence) } },
        });
        if (existing) return toCheckpoint(existing);
        const previous = await tx.auditCheckpoint.findFirst({
          where: { chain, sequence: { lt: BigInt(sequence) } },
          orderBy: { sequence: 'desc' },
        });
        const link: CheckpointLink = previous
          ? {
              every,
              previousSequence: Number(previous.sequence),
              previousHash: checkpointHash(toCheckpoint(previous)),
            }
          : { every, previousSequence: 0, previousHash: GENESIS_HASH };
        const signature = await sign(checkpointStatement({ chain, sequence, hash, at, link }));
        if (!signature) return null;
        await tx.auditCheckpoint.create({
          data: {
            chain,
            sequence: BigInt(sequence),
            hash: toBytes(hash),
            at,
            signature: toBytes(signature),
            every,
            previousSequence: BigInt(link.previousSequence),
            previousHash: toBytes(link.previousHash),
          },
        });
        return { chain, sequence, hash, at, signature, link };
      },
      { maxWait: 10_000, timeout: 10_000 },
    );
  }
}
