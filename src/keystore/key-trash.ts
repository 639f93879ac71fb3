/**
 * The key trash bin of a partition with key invalidation on (reference §6.1): deleting a key only moves it
 * here. A key in the trash looks deleted to every key operation (`KeyStore.requireKey` serves active keys
 * only) but keeps its label. Security officers list it, restore it or purge it for good.
 */
import { TsbError } from '../errors.js';
import type { Key, Partition, Prisma, PrismaClient } from '../generated/prisma/client.js';
import { normalizeLabel } from './key-label.js';
import { INVALIDATED, keyRowChange } from './keys/key.repository.js';
import { assertWritable } from './keys/key-input-rules.js';
import type { KeyStore } from './keys/key-store.js';
import { announceChange } from './metadata-cache.js';

export interface InvalidatedKey {
  id: string;
  label: string;
  algorithm: string;
  invalidatedAt: Date | null;
}

type Db = PrismaClient | Prisma.TransactionClient;

export class KeyTrash {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly keys: KeyStore,
  ) {}

  async list(partition: Pick<Partition, 'id'>): Promise<InvalidatedKey[]> {
    return this.prisma.key.findMany({
      where: { partitionId: partition.id, status: INVALIDATED },
      select: { id: true, label: true, algorithm: true, invalidatedAt: true },
      orderBy: [{ invalidatedAt: 'asc' }, { label: 'asc' }],
    });
  }

  /**
   * The key under `label` if it is in the trash, and is the key `keyId` when one is given; refused (650)
   * otherwise.
   */
  async require(
    partition: Pick<Partition, 'id'>,
    label: string,
    db: Db = this.prisma,
    keyId: string | null = null,
  ): Promise<Key> {
    const key = await db.key.findFirst({
      where: { partitionId: partition.id, label: normalizeLabel(label), status: INVALIDATED },
    });
    if (!key) {
      throw new TsbError('KEY_NOT_EXISTENT', `no key named "${label}" is in the trash bin of this partition`);
    }
    if (keyId !== null && key.id !== keyId) {
      throw new TsbError(
        'KEY_NOT_EXISTENT',
        `the key "${label}" in the trash bin is another key (${key.id}) than the one proposed (${keyId}), which left it`,
      );
    }
    return key;
  }

  /**
   * Makes a key of the trash active again, the key `keyId` when given: a new version, so no cached copy of the old
   * one is served. Run inside the caller's transaction; call {@link announce} once it is committed.
   */
  async restore(partition: Partition, label: string, db: Db, keyId: string | null = null): Promise<Key> {
    assertWritable(partition);
    const key = await this.require(partition, label, db, keyId);
    const { count } = await db.key.updateMany({
      where: { id: key.id, status: INVALIDATED, version: key.version },
      data: { status: 'active', invalidatedAt: null, version: { increment: 1 } },
    });
    if (count !== 1) throw new TsbError('KEY_NOT_EXISTENT', `key "${label}" left the trash bin meanwhile`);
    await announceChange(db, keyRowChange(key));
    return key;
  }

  /** Deletes a key of the trash (the key `keyId`, when given) for good: its label is free again. As {@link restore}. */
  async purge(partition: Partition, label: string, db: Db, keyId: string | null = null): Promise<Key> {
    assertWritable(partition);
    if (!partition.allowObjectDestruction) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the partition security policy does not allow destroying keys (purging one needs object destruction)',
      );
    }
    const key = await this.require(partition, label, db, keyId);
    const { count } = await db.key.deleteMany({ where: { id: key.id, status: INVALIDATED } });
    if (count !== 1) throw new TsbError('KEY_NOT_EXISTENT', `key "${label}" left the trash bin meanwhile`);
    await announceChange(db, keyRowChange(key));
    return key;
  }

  /** After the commit: drops this process's cached row and ready key object (the others heard of the change from it). */
  announce(partition: Partition, key: Key): Promise<void> {
    return this.keys.keyChanged(partition, key, null);
  }
}
