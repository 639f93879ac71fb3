import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../clock.js';
import { TsbError } from '../errors.js';
import type { Partition, PrismaClient } from '../generated/prisma/client.js';
import { KeyOperations } from './key-operations.js';
import { KeyStore } from './keystore.js';
import { shutdownKeygenPool } from './mechanisms/index.js';
import { MetadataCache } from './metadata-cache.js';
import { shutdownSignaturePool } from './operations/signatures-pool.js';
import { PartitionKeyring } from './partition-keyring.js';
import { PartitionStore } from './partitions.js';
import { UseCounter } from './use-counter.js';

export interface SoftHsmOptions {
  prisma: PrismaClient;
  masterKey: Buffer;
  keyCacheSize: number;
  clock?: Clock;
}

export const MAX_RANDOM_BYTES = 65_536;
/** Longest a cached partition or key row is served without re-reading it (the change feed normally drops it first). */
const METADATA_TTL_MS = 30_000;

/**
 * The embedded software HSM: partitions, their keys and the operations on them.
 * It knows nothing of HTTP or queues; callers pass the partition they act for.
 */
export class SoftHsm {
  readonly partitions: PartitionStore;
  readonly keys: KeyStore;
  readonly keyring: PartitionKeyring;
  readonly operations: KeyOperations;
  readonly useCounter: UseCounter;
  /** partition and key rows in memory, kept true across processes by the change feed (`listenForChanges`) */
  readonly metadata: MetadataCache;

  constructor(options: SoftHsmOptions) {
    const clock = options.clock ?? systemClock;
    this.metadata = new MetadataCache(options.prisma, {
      capacity: options.keyCacheSize,
      ttlMs: METADATA_TTL_MS,
    });
    this.partitions = new PartitionStore(options.prisma, options.masterKey, (change) =>
      this.metadata.announce(change),
    );
    this.keyring = new PartitionKeyring((partition) => this.partitions.openPartitionKey(partition));
    this.useCounter = new UseCounter(options.prisma);
    this.keys = new KeyStore(
      options.prisma,
      this.keyring,
      clock,
      options.keyCacheSize,
      this.useCounter,
      this.metadata,
    );
    this.operations = new KeyOperations(this.keys, this.useCounter);
  }

  /** Writes what is still only in memory (key use counts); call before the database client closes. */
  /** Hears other processes' key and partition changes (PostgreSQL LISTEN), so cached rows stay true. */
  listenForChanges(databaseUrl: string, onError?: (error: unknown) => void): Promise<void> {
    return this.metadata.listen(databaseUrl, onError);
  }

  async close(): Promise<void> {
    await this.metadata.close();
    await this.useCounter.flush();
    await Promise.all([shutdownKeygenPool(), shutdownSignaturePool()]);
  }

  async partition(partitionId: string): Promise<Partition> {
    const partition = await this.metadata.partition(partitionId, () => this.partitions.findById(partitionId));
    if (!partition)
      throw new TsbError('INSUFFICIENT_LOGIN_INFORMATION', 'the caller’s partition does not exist');
    return partition;
  }

  random(length: number): Buffer {
    if (!Number.isInteger(length) || length < 1 || length > MAX_RANDOM_BYTES) {
      throw new TsbError('INVALID_NUMBER_RANGE', `length must be an integer from 1 to ${MAX_RANDOM_BYTES}`);
    }
    return randomBytes(length);
  }
}

export { DEVELOPMENT_KEY_WARNING, resolveMasterKey } from './master-key.js';
export type { Partition };
