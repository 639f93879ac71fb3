import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { Partition } from '../generated/prisma/client.js';
import { attestationKeyBinding, unseal } from './seal.js';

export interface OpenedPartition {
  partitionKey: Buffer;
  attestationKey: KeyObject;
}

/**
 * Keeps each partition's opened partition key and attestation key in memory, as an HSM keeps its
 * working keys, so a request costs no unsealing of partition secrets.
 */
export class PartitionKeyring {
  private readonly opened = new Map<string, OpenedPartition>();

  constructor(private readonly openPartitionKey: (partition: Partition) => Buffer) {}

  open(partition: Partition): OpenedPartition {
    const cached = this.opened.get(partition.id);
    if (cached) return cached;
    const partitionKey = this.openPartitionKey(partition);
    const attestationDer = unseal(
      partitionKey,
      partition.attestationKeySealed,
      attestationKeyBinding(partition.id),
    );
    const attestationKey = createPrivateKey({ key: attestationDer, format: 'der', type: 'pkcs8' });
    attestationDer.fill(0);
    const entry = { partitionKey, attestationKey };
    this.opened.set(partition.id, entry);
    return entry;
  }

  forget(partitionId: string): void {
    this.opened.get(partitionId)?.partitionKey.fill(0);
    this.opened.delete(partitionId);
  }
}
