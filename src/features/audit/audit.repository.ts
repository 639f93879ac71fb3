import type pg from 'pg';
import { sqlPoolOf } from '../../db/prisma.js';
import { execute, inTransaction, queryRows, type Statement, timestampParam } from '../../db/sql.js';
import type {
  AuditCheckpoint as CheckpointRow,
  AuditEntry as EntryRow,
  PrismaClient,
  AuditPrune as PruneRow,
} from '../../generated/prisma/client.js';
import {
  type AuditCheckpoint,
  type AuditEntry,
  type AuditPrune,
  type CheckpointLink,
  checkpointHash,
  checkpointStatement,
  GENESIS_HASH,
} from './audit-chain.js';

export interface AuditHeadState {
  sequence: number;
  hash: Buffer;
}

const toPrune = (row: PruneRow): AuditPrune => ({
  chain: row.chain,
  sequence: Number(row.sequence),
  hash: Buffer.from(row.hash),
  checkpointHash: Buffer.from(row.checkpointHash),
  at: row.at,
  signature: Buffer.from(row.signature),
});

export const toEntry = ({ count, firstAt, clientAddress, ...row }: EntryRow): AuditEntry => ({
  ...row,
  sequence: Number(row.sequence),
  prevHash: Buffer.from(row.prevHash),
  hash: Buffer.from(row.hash),
  summary:
    count === null || firstAt === null || clientAddress === null ? null : { count, firstAt, clientAddress },
});

/** A checkpoint row as Prisma reads it, or as `pg` does (its bigints as text). */
type CheckpointFields = Omit<
  CheckpointRow,
  'sequence' | 'previousSequence' | 'hash' | 'signature' | 'previousHash'
> & {
  sequence: bigint | string;
  previousSequence: bigint | string | null;
  hash: Uint8Array;
  signature: Uint8Array;
  previousHash: Uint8Array | null;
};

const toCheckpoint = (row: CheckpointFields): AuditCheckpoint => ({
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

/** Takes the chain's checkpoint lock, waiting at most 10 s for it (the FROM item sets the limit first). */
const CHECKPOINT_LOCK_STATEMENT: Statement = {
  name: 'opentsb-audit-checkpoint-lock',
  text: `SELECT pg_advisory_xact_lock($1::int, hashtext($2))
    FROM (SELECT set_config('lock_timeout', '10s', true)) AS lock_timeout`,
};

/** bigints as text (named apart from the table's columns, so that ORDER BY "sequence" sorts numbers) */
const CHECKPOINT_COLUMNS = `"chain", "sequence"::text AS "sequenceText", "hash", "at", "signature", "every",
  "previousSequence"::text AS "previousSequenceText", "previousHash"`;

/** The chain's checkpoint at the sequence, and the one with the highest sequence below it (each when there is one). */
const CHECKPOINT_NEIGHBOURS: Statement = {
  name: 'opentsb-audit-checkpoint-neighbours',
  text: `
    (SELECT ${CHECKPOINT_COLUMNS} FROM "AuditCheckpoint" WHERE "chain" = $1 AND "sequence" = $2::bigint)
    UNION ALL
    (SELECT ${CHECKPOINT_COLUMNS} FROM "AuditCheckpoint" WHERE "chain" = $1 AND "sequence" < $2::bigint
      ORDER BY "sequence" DESC LIMIT 1)`,
};

const CHECKPOINT_INSERT: Statement = {
  name: 'opentsb-audit-checkpoint-insert',
  text: `
    INSERT INTO "AuditCheckpoint" ("chain", "sequence", "hash", "at", "signature", "every", "previousSequence",
      "previousHash")
    VALUES ($1, $2::bigint, $3::bytea, $4::timestamp(3), $5::bytea, $6::int, $7::bigint, $8::bytea)`,
};

/** A row of {@link CHECKPOINT_COLUMNS} as the checkpoint it holds. */
export function checkpointOfRow(row: readonly unknown[]): AuditCheckpoint {
  const [chain, sequence, hash, at, signature, every, previousSequence, previousHash] = row as [
    string,
    string,
    Buffer,
    Date,
    Buffer,
    number | null,
    string | null,
    Buffer | null,
  ];
  return toCheckpoint({ chain, sequence, hash, at, signature, every, previousSequence, previousHash });
}

/** Signs a checkpoint statement; null when the chain is not signed. */
export type StatementSigner = (statement: Buffer) => Promise<Buffer | null>;

/** Reads of the audit tables, and the checkpoints (entries are appended by AuditWriter). */
export class AuditRepository {
  private readonly pool: pg.Pool;

  constructor(private readonly prisma: PrismaClient) {
    this.pool = sqlPoolOf(prisma);
  }

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

  /** The chain's checkpoints from `from` up to `upTo`, in sequence order. */
  async checkpoints(chain: string, upTo: number, from = 1): Promise<AuditCheckpoint[]> {
    const rows = await this.prisma.auditCheckpoint.findMany({
      where: { chain, sequence: { gte: BigInt(from), lte: BigInt(upTo) } },
      orderBy: { sequence: 'asc' },
    });
    return rows.map(toCheckpoint);
  }

  /** How far the retention pruned the chain (audit-retention.ts), or null when it never did. */
  async prune(chain: string): Promise<AuditPrune | null> {
    const row = await this.prisma.auditPrune.findUnique({ where: { chain } });
    return row ? toPrune(row) : null;
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
    return inTransaction(this.pool, async (client) => {
      await execute(client, CHECKPOINT_LOCK_STATEMENT, [CHECKPOINT_LOCK, chain]);
      // read after the lock (a statement of its own, so it sees what the holder before us committed)
      const found = (await queryRows(client, CHECKPOINT_NEIGHBOURS, [chain, String(sequence)])).map(
        checkpointOfRow,
      );
      const existing = found.find((checkpoint) => checkpoint.sequence === sequence);
      if (existing) return existing;
      const previous = found.find((checkpoint) => checkpoint.sequence < sequence);
      const link: CheckpointLink = previous
        ? { every, previousSequence: previous.sequence, previousHash: checkpointHash(previous) }
        : { every, previousSequence: 0, previousHash: GENESIS_HASH };
      const signature = await sign(checkpointStatement({ chain, sequence, hash, at, link }));
      if (!signature) return null;
      await execute(client, CHECKPOINT_INSERT, [
        chain,
        String(sequence),
        hash,
        timestampParam(at),
        signature,
        every,
        String(link.previousSequence),
        link.previousHash,
      ]);
      return { chain, sequence, hash, at, signature, link };
    });
  }
}
