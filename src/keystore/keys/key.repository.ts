/**
 * The key rows of the key store: the only file of `keystore/keys/` that talks to Prisma. It stores what it is
 * given (material already sealed, passwords already hashed) and knows no rules beyond unique labels.
 */
import type { AddressFormat } from '../../crypto/addresses/address-formats.js';
import { isUniqueViolation } from '../../db/unique-violation.js';
import { TsbError } from '../../errors.js';
import { type Key, Prisma, type PrismaClient } from '../../generated/prisma/client.js';
import { toBytes } from '../../lib/encoding.js';
import type { NormalizedPolicy } from '../../ska/policy-normalized.js';
import type { KeyAttributes } from '../key-attributes.js';
import { announceChange, writeAnnounced } from '../metadata-cache.js';

export const ACTIVE = 'active';
/** a key in the trash bin (key invalidation): it looks deleted, its label stays taken */
export const INVALIDATED = 'invalidated';

/** A new key row; `materialSealed` is sealed under the partition key and bound to `id` already. */
export interface NewKeyRow {
  id: string;
  partitionId: string;
  label: string;
  externalId: string | null;
  algorithm: string;
  algorithmOid: string | null;
  curveOid: string | null;
  keySize: number | null;
  origin: 'generated' | 'imported';
  publicOnly: boolean;
  publicKey: Buffer | null;
  certificate: Buffer | null;
  materialSealed: Buffer | null;
  passwordHash: string | null;
  attributes: KeyAttributes;
  policy: NormalizedPolicy | null;
  addressFormat: AddressFormat | null;
  chainCode: Buffer | null;
  derivation: { type: string; value: string } | null;
  requestId: string | null;
  /** a stateful hash-based key: its number of one-time indices (the first to reserve is 0) */
  statefulLimit?: number | null;
}

/** Indices reserved for one process: first … first + count − 1, and what remains after them. */
export interface ReservedIndices {
  first: number;
  count: number;
  limit: number;
}

/** The public part a re-import replaces (never a private key). */
export interface PublicPart {
  publicKey: Uint8Array | null;
  certificate: Uint8Array | null;
  curveOid: string | null;
  keySize: number | null;
}

/** What a block, unblock or policy change writes. */
export interface KeyStatusChange {
  blocked?: boolean;
  policy?: Prisma.InputJsonValue;
}

export interface KeyCountGroup {
  algorithm: string;
  status: string;
  count: number;
}

export class KeyRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async activeLabels(partitionId: string): Promise<string[]> {
    const keys = await this.prisma.key.findMany({
      where: { partitionId, status: ACTIVE },
      select: { label: true },
      orderBy: { label: 'asc' },
    });
    return keys.map((key) => key.label);
  }

  /** The row under the label, active or invalidated. */
  findByLabel(partitionId: string, label: string): Promise<Key | null> {
    return this.prisma.key.findUnique({ where: { partitionId_label: { partitionId, label } } });
  }

  /** The key an SKA request already stored under the label (a re-run of that request finds it). */
  findMadeByRequest(partitionId: string, label: string, requestId: string): Promise<Key | null> {
    return this.prisma.key.findFirst({ where: { partitionId, label, lastRequestId: requestId } });
  }

  async assertLabelFree(partitionId: string, label: string): Promise<void> {
    const existing = await this.prisma.key.findUnique({
      where: { partitionId_label: { partitionId, label } },
      select: { id: true },
    });
    if (existing) throw new TsbError('KEY_ALREADY_EXISTING', `a key named "${label}" already exists`);
  }

  async insert(row: NewKeyRow): Promise<Key> {
    try {
      return await this.prisma.key.create({
        data: {
          id: row.id,
          partitionId: row.partitionId,
          label: row.label,
          externalId: row.externalId,
          algorithm: row.algorithm,
          algorithmOid: row.algorithmOid,
          curveOid: row.curveOid,
          keySize: row.keySize,
          origin: row.origin,
          publicOnly: row.publicOnly,
          publicKey: row.publicKey && toBytes(row.publicKey),
          certificate: row.certificate ? toBytes(row.certificate) : null,
          materialSealed: row.materialSealed === null ? null : toBytes(row.materialSealed),
          passwordHash: row.passwordHash,
          attributes: row.attributes as unknown as Prisma.InputJsonValue,
          policy: row.policy === null ? Prisma.DbNull : (row.policy as unknown as Prisma.InputJsonValue),
          blocked: row.policy?.keyStatus.blocked ?? false,
          addressFormat: row.addressFormat,
          chainCode: row.chainCode ? toBytes(row.chainCode) : null,
          derivationType: row.derivation?.type ?? null,
          derivationValue: row.derivation?.value ?? null,
          lastRequestId: row.requestId,
          statefulNext: row.statefulLimit == null ? null : 0n,
          statefulLimit: row.statefulLimit == null ? null : BigInt(row.statefulLimit),
        },
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new TsbError('KEY_ALREADY_EXISTING', `a key named "${row.label}" already exists`);
      }
      throw error;
    }
  }

  /** Moves the key to the trash bin (key invalidation); a new version, so no cached copy is served. */
  async invalidate(key: KeyName, at: Date): Promise<void> {
    await writeAnnounced(this.prisma, keyRowChange(key), (tx) =>
      tx.key.update({
        where: { id: key.id },
        data: { status: INVALIDATED, invalidatedAt: at, version: { increment: 1 } },
      }),
    );
  }

  async delete(key: KeyName): Promise<void> {
    await writeAnnounced(this.prisma, keyRowChange(key), (tx) => tx.key.delete({ where: { id: key.id } }));
  }

  async setPasswordHash(key: KeyName, passwordHash: string | null): Promise<void> {
    await writeAnnounced(this.prisma, keyRowChange(key), (tx) =>
      tx.key.update({ where: { id: key.id }, data: { passwordHash, version: { increment: 1 } } }),
    );
  }

  /** Replaces the public part of an active key still at `key.version`; null when it changed meanwhile. */
  replacePublicPart(key: KeyName & Pick<Key, 'version'>, part: PublicPart): Promise<Key | null> {
    return writeAnnounced(this.prisma, keyRowChange(key), async (tx) => {
      const { count } = await tx.key.updateMany({
        where: { id: key.id, version: key.version, status: ACTIVE },
        data: {
          publicKey: part.publicKey && toBytes(part.publicKey),
          certificate: part.certificate && toBytes(part.certificate),
          curveOid: part.curveOid,
          keySize: part.keySize,
          version: { increment: 1 },
        },
      });
      return count === 1 ? tx.key.findUnique({ where: { id: key.id } }) : null;
    });
  }

  /**
   * Writes a status or policy change (a new version) only if the key is still at `key.version`; `tx` is a
   * caller's transaction where the change commits with other writes. Answers whether it was written.
   */
  async updateIfVersion(
    key: KeyName & Pick<Key, 'version'>,
    data: KeyStatusChange & { lastRequestId: string | null },
    tx?: Prisma.TransactionClient,
  ): Promise<boolean> {
    const write = async (db: Prisma.TransactionClient) => {
      const { count } = await db.key.updateMany({
        where: { id: key.id, version: key.version },
        data: { ...data, version: { increment: 1 } },
      });
      if (count === 1) await announceChange(db, keyRowChange(key));
      return count === 1;
    };
    return tx ? write(tx) : this.prisma.$transaction(write);
  }

  /** Sets or removes an active key's certificate (its version stays: the material is unchanged). */
  async setCertificate(key: KeyName, certificate: Uint8Array | null): Promise<boolean> {
    const { count } = await writeAnnounced(this.prisma, keyRowChange(key), (tx) =>
      tx.key.updateMany({
        where: { id: key.id, partitionId: key.partitionId, status: ACTIVE },
        data: { certificate: certificate ? toBytes(certificate) : null },
      }),
    );
    return count === 1;
  }

  /**
   * Reserves `count` one-time indices of a stateful key in one atomic statement (committed when it
   * resolves): the row's next index moves past them only if the key is active and they fit below its limit.
   * Concurrent callers, in this process or another, get disjoint ranges; null when they do not fit.
   */
  async reserveStatefulIndices(keyId: string, count: number): Promise<ReservedIndices | null> {
    const rows = await this.prisma.$queryRaw<Array<{ first: bigint; limit: bigint }>>`
      UPDATE "Key" SET "statefulNext" = "statefulNext" + ${count}::bigint
      WHERE id = ${keyId}::uuid AND status = ${ACTIVE}
        AND "statefulNext" IS NOT NULL AND "statefulNext" + ${count}::bigint <= "statefulLimit"
      RETURNING "statefulNext" - ${count}::bigint AS first, "statefulLimit" AS limit`;
    const row = rows[0];
    return row ? { first: Number(row.first), count, limit: Number(row.limit) } : null;
  }

  /** The stateful key's next index and limit as stored now (not from any cache). */
  async statefulState(keyId: string): Promise<{ next: number; limit: number } | null> {
    const row = await this.prisma.key.findUnique({
      where: { id: keyId },
      select: { statefulNext: true, statefulLimit: true },
    });
    if (row?.statefulNext == null || row.statefulLimit == null) return null;
    return { next: Number(row.statefulNext), limit: Number(row.statefulLimit) };
  }

  /** Per algorithm: active stateful keys, the fewest signatures one has left, how many are past 90 %. */
  async statefulSummary(): Promise<
    Array<{ algorithm: string; keys: number; minRemaining: number; past90: number }>
  > {
    const rows = await this.prisma.$queryRaw<
      Array<{ algorithm: string; keys: bigint; minRemaining: bigint; past90: bigint }>
    >`
      SELECT algorithm, COUNT(*) AS keys, MIN("statefulLimit" - "statefulNext") AS "minRemaining",
             COUNT(*) FILTER (WHERE "statefulNext" * 10 >= "statefulLimit" * 9) AS past90
      FROM "Key" WHERE status = ${ACTIVE} AND "statefulLimit" IS NOT NULL GROUP BY algorithm`;
    return rows.map((row) => ({
      algorithm: row.algorithm,
      keys: Number(row.keys),
      minRemaining: Number(row.minRemaining),
      past90: Number(row.past90),
    }));
  }

  async countsByAlgorithmAndStatus(partitionId: string): Promise<KeyCountGroup[]> {
    const groups = await this.prisma.key.groupBy({
      by: ['algorithm', 'status'],
      where: { partitionId },
      _count: { _all: true },
    });
    return groups.map((group) => ({
      algorithm: group.algorithm,
      status: group.status,
      count: group._count._all,
    }));
  }
}

/** The key a write announces: its row is cached in every process under partition and label. */
export type KeyName = Pick<Key, 'id' | 'partitionId' | 'label'>;

/**
 * The change notification of every write to a key row that processes cache (block, policy change, destruction,
 * new password, certificate, public part, trash restore and purge). The write's own transaction sends it, so every
 * process drops its cached row at the commit, also when the writing process dies (or loses its connection) right
 * after it; the writing process then drops its own copy at once (`KeyChanges.keyChanged`) rather than wait to hear
 * its own notification.
 */
export const keyRowChange = (key: KeyName) =>
  ({ kind: 'key', partitionId: key.partitionId, label: key.label }) as const;
