/**
 * Key material out of its seal: the unsealed material of a key, and its ready (parsed) object kept in
 * the bounded cache, keyed by key id and version.
 */
import { type KeyMaterial, loadPrivate, type ReadyKey } from '../../crypto/mechanisms/key-mechanisms.js';
import { keyMaterialBinding, UnsealError, unseal } from '../../crypto/seal.js';
import { TsbError } from '../../errors.js';
import type { Key, Partition } from '../../generated/prisma/client.js';
import type { PartitionKeyring } from '../partitions/partition-keyring.js';
import { KeyCache } from './key-cache.js';
import type { KeyCacheStatistics } from './key-store.types.js';

export class ReadyKeys {
  private readonly cache: KeyCache<ReadyKey>;

  constructor(
    private readonly keyring: PartitionKeyring,
    capacity: number,
  ) {
    this.cache = new KeyCache<ReadyKey>(capacity);
  }

  /** The ready object of a key that holds private or secret material, from the cache when unchanged. */
  ready(partition: Partition, key: Key): ReadyKey {
    const cached = this.cache.get(key.id, key.version, partition.id);
    if (cached) return cached;
    if (!key.materialSealed) {
      throw new TsbError('OPERATION_FORBIDDEN_FOR_KEY', `key "${key.label}" holds only a public key`);
    }
    const ready = loadPrivate(this.materialOf(partition, key));
    this.cache.set(key.id, key.version, ready, partition.id);
    return ready;
  }

  /** The unsealed material of a key (private/secret bytes); callers must not keep or log it. */
  materialOf(partition: Partition, key: Key): KeyMaterial {
    const { partitionKey } = this.keyring.open(partition);
    return {
      algorithm: key.algorithm as KeyMaterial['algorithm'],
      algorithmOid: key.algorithmOid,
      curveOid: key.curveOid,
      keySize: key.keySize ?? 0,
      publicKey: key.publicKey ? Buffer.from(key.publicKey) : null,
      secret: key.materialSealed ? unsealMaterial(partitionKey, partition, key) : null,
    };
  }

  drop(keyId: string): void {
    this.cache.drop(keyId);
  }

  clear(): void {
    this.cache.clear();
  }

  /** The whole cache's figures (every partition's): for the operator's metrics, never for a partition's caller. */
  statistics(): KeyCacheStatistics {
    const { size, capacity, hits, misses } = this.cache;
    return { size, capacity, hits, misses };
  }

  /** One partition's own entries and lookups, and the capacity the partitions share. */
  partitionStatistics(partitionId: string): KeyCacheStatistics {
    return { ...this.cache.figures(partitionId), capacity: this.cache.capacity };
  }
}

function unsealMaterial(partitionKey: Buffer, partition: Partition, key: Key): Buffer {
  try {
    return unseal(partitionKey, key.materialSealed!, keyMaterialBinding(partition.id, key.id));
  } catch (error) {
    if (error instanceof UnsealError) {
      throw new TsbError(
        'HSM_INTEGRITY',
        `the stored material of key "${key.label}" failed its integrity check`,
      );
    }
    throw error;
  }
}
