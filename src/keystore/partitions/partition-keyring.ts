import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { attestationKeyBinding, timestampKeyBinding, unseal } from '../../crypto/seal.js';
import { TsbError } from '../../errors.js';
import type { Partition } from '../../generated/prisma/client.js';

export interface OpenedPartition {
  partitionKey: Buffer;
  attestationKey: KeyObject;
  /** null until the partition has a timestamp key (partitions created before the SKA workflow get one on first use) */
  timestampKey: KeyObject | null;
  /** the SPKI (DER) of each private key, derived from it: what the partition row's public key columns must hold */
  attestationSpki: Buffer;
  timestampSpki: Buffer | null;
}

/**
 * Keeps each partition's opened partition key, attestation key and timestamp key in memory, as an HSM
 * keeps its working keys, so a request costs no unsealing of partition secrets.
 */
export class PartitionKeyring {
  private readonly opened = new Map<string, OpenedPartition>();

  constructor(private readonly openPartitionKey: (partition: Partition) => Buffer) {}

  /**
   * The partition's opened keys. Refused (HSM_INTEGRITY) when the row's public key columns are not the public keys of
   * its sealed private keys: those columns are stored in clear, and whoever could write them could otherwise have
   * the service trust a key of theirs (audit checkpoints, the certificates its CA issues) while it signs with its own.
   */
  open(partition: Partition): OpenedPartition {
    const entry = this.opened.get(partition.id) ?? this.opening(partition, null);
    const opened =
      entry.timestampKey || !partition.timestampKeySealed ? entry : this.opening(partition, entry);
    assertPublicKey(partition, 'attestation', partition.attestationPublicKey, opened.attestationSpki);
    if (opened.timestampSpki)
      assertPublicKey(partition, 'timestamp', partition.timestampPublicKey, opened.timestampSpki);
    return opened;
  }

  private opening(partition: Partition, cached: OpenedPartition | null): OpenedPartition {
    const partitionKey = cached?.partitionKey ?? this.openPartitionKey(partition);
    const attestationKey =
      cached?.attestationKey ??
      openPrivateKey(partitionKey, partition.attestationKeySealed, attestationKeyBinding(partition.id));
    const timestampKey = partition.timestampKeySealed
      ? openPrivateKey(partitionKey, partition.timestampKeySealed, timestampKeyBinding(partition.id))
      : null;
    const entry: OpenedPartition = {
      partitionKey,
      attestationKey,
      timestampKey,
      attestationSpki: cached?.attestationSpki ?? spkiOf(attestationKey),
      timestampSpki: timestampKey ? spkiOf(timestampKey) : null,
    };
    this.opened.set(partition.id, entry);
    return entry;
  }

  forget(partitionId: string): void {
    this.opened.get(partitionId)?.partitionKey.fill(0);
    this.opened.delete(partitionId);
  }
}

const spkiOf = (privateKey: KeyObject): Buffer =>
  createPublicKey(privateKey).export({ type: 'spki', format: 'der' });

function assertPublicKey(
  partition: Pick<Partition, 'name'>,
  which: 'attestation' | 'timestamp',
  stored: Uint8Array | null,
  derived: Buffer,
): void {
  if (stored !== null && Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).equals(derived))
    return;
  throw new TsbError(
    'HSM_INTEGRITY',
    `the stored ${which} public key of partition "${partition.name}" is not the public key of its sealed ${which} key: the partition's row was changed outside the service`,
  );
}

function openPrivateKey(partitionKey: Buffer, sealed: Uint8Array, binding: string): KeyObject {
  const der = unseal(partitionKey, sealed, binding);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}
