import { createPrivateKey, type KeyObject } from 'node:crypto';
import { attestationKeyBinding, timestampKeyBinding, unseal } from '../../crypto/seal.js';
import type { Partition } from '../../generated/prisma/client.js';

export interface OpenedPartition {
  partitionKey: Buffer;
  attestationKey: KeyObject;
  /** null until the partition has a timestamp key (partitions created before the SKA workflow get one on first use) */
  timestampKey: KeyObject | null;
}

/**
 * Keeps each partition's opened partition key, attestation key and timestamp key in memory, as an HSM
 * keeps its working keys, so a request costs no unsealing of partition secrets.
 */
export class PartitionKeyring {
  private readonly opened = new Map<string, OpenedPartition>();

  constructor(private readonly openPartitionKey: (partition: Partition) => Buffer) {}

  open(partition: Partition): OpenedPartition {
    const cached = this.opened.get(partition.id);
    if (cached && (cached.timestampKey || !partition.timestampKeySealed)) return cached;
    const partitionKey = cached?.partitionKey ?? this.openPartitionKey(partition);
    const entry = {
      partitionKey,
      attestationKey:
        cached?.attestationKey ??
        openPrivateKey(partitionKey, partition.attestationKeySealed, attestationKeyBinding(partition.id)),
      timestampKey: partition.timestampKeySealed
        ? openPrivateKey(partitionKey, partition.timestampKeySealed, timestampKeyBinding(partition.id))
        : null,
    };
    this.opened.set(partition.id, entry);
    return entry;
  }

  forget(partitionId: string): void {
    this.opened.get(partitionId)?.partitionKey.fill(0);
    this.opened.delete(partitionId);
  }
}

function openPrivateKey(partitionKey: Buffer, sealed: Uint8Array, binding: string): KeyObject {
  const der = unseal(partitionKey, sealed, binding);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}
