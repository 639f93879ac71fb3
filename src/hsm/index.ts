import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../clock.js';
import { TsbError } from '../errors.js';
import type { Partition, PrismaClient } from '../generated/prisma/client.js';
import { KeyOperations } from './key-operations.js';
import { KeyStore } from './keystore.js';
import { shutdownKeygenPool } from './mechanisms/index.js';
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

  constructor(options: SoftHsmOptions) {
    const clock = options.clock ?? systemClock;
    this.partitions = new PartitionStore(options.prisma, options.masterKey);
    this.keyring = new PartitionKeyring((partition) => this.partitions.openPartitionKey(partition));
    this.useCounter = new UseCounter(options.prisma);
    this.keys = new KeyStore(options.prisma, this.keyring, clock, options.keyCacheSize, this.useCounter);
    this.operations = new KeyOperations(this.keys, this.useCounter);
  }

  /** Writes what is still only in memory (key use counts); call before the database client closes. */
  async close(): Promise<void> {
    await this.useCounter.flush();
    await Promise.all([shutdownKeygenPool(), shutdownSignaturePool()]);
  }

  async partition(partitionId: string): Promise<Partition> {
    const partition = await this.partitions.findById(partitionId);
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
