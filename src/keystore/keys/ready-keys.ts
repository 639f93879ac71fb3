/**
 * Key material out of its seal: the unsealed material of a key, and its ready (parsed) object kept in
 * the bounded cache, keyed by key id and version.
 */
import { isSymmetric, normalizeAlgorithm } from '../../crypto/algorithms.js';
import {
  type KeyMaterial,
  loadPrivate,
  publicKeyOf,
  type ReadyKey,
} from '../../crypto/mechanisms/key-mechanisms.js';
import { keyMaterialBinding, UnsealError, unseal } from '../../crypto/seal.js';
import { TsbError } from '../../errors.js';
import type { Key, Partition } from '../../generated/prisma/client.js';
import type { PartitionKeyring } from '../partitions/partition-keyring.js';
import { KeyCache } from './key-cache.js';
import type { KeyCacheStatistics } from './key-store.types.js';

export class ReadyKeys {
  private readonly cache: KeyCache<ReadyKey>;
  /** by key id and version: the public key (SPKI) found to be the one of its sealed private key */
  private readonly ownPublicKeys: KeyCache<Buffer>;

  constructor(
    private readonly keyring: PartitionKeyring,
    capacity: number,
  ) {
    this.cache = new KeyCache<ReadyKey>(capacity);
    this.ownPublicKeys = new KeyCache<Buffer>(capacity);
  }

  /**
   * Refuses (HSM_INTEGRITY) a key pair whose stored public key is not the public key of its sealed private key. The
   * public key is stored in clear and bound to nothing, and verification, encryption to the key, addresses and the
   * key's attributes and attestation all read it: a public key written into the row would have had them vouch for
   * a key of the writer's. Checked once per key version and process (then a lookup and a comparison).
   */
  assertOwnPublicKey(partition: Partition, key: Key): void {
    if (!key.materialSealed || !key.publicKey || isSymmetric(normalizeAlgorithm(key.algorithm))) return;
    const stored = Buffer.from(key.publicKey.buffer, key.publicKey.byteOffset, key.publicKey.byteLength);
    if (this.ownPublicKeys.get(key.id, key.version, partition.id)?.equals(stored)) return;
    const material = this.materialOf(partition, key);
    let own: Buffer;
    try {
      own = publicKeyOf(material);
    } finally {
      material.secret?.fill(0);
    }
    if (!own.equals(stored)) {
      throw new TsbError(
        'HSM_INTEGRITY',
        `the stored public key of key "${key.label}" is not the public key of its sealed private key: the key's row was changed outside the service`,
      );
    }
    this.ownPublicKeys.set(key.id, key.version, own, partition.id);
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
