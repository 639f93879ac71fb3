import { generateKeyPair, randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import {
  attestationKeyBinding,
  partitionKeyBinding,
  seal,
  timestampKeyBinding,
  UnsealError,
  unseal,
} from '../../crypto/seal.js';
import { TsbError } from '../../errors.js';
import type { Partition, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { PARTITION_NAME_PATTERN } from '../../lib/partition-name.js';
import { announceChange, type MetadataChange } from '../metadata-cache.js';
import { PartitionRepository } from './partition.repository.js';
import { DEFAULT_PARTITION_FLAGS, type PartitionFlags } from './partition-flags.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** How long the answer of partitionsTheMasterKeyCannotOpen is kept (readiness probes come every few seconds). */
const KEY_CHECK_INTERVAL_MS = 10_000;

/** The name approval challenges give for the key that signs their timestamp (as the TSB samples do). */
export const TIMESTAMP_KEY_NAME = 'timestamp-key';

function generateP256(): Promise<{ publicKey: Buffer; privateKey: Buffer }> {
  return generateKeyPairAsync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
}

/**
 * Partitions (tenants). Each has its own 256-bit partition key, sealed under the master key,
 * and its own attestation key pair (EC P-256) whose private half is sealed under the partition key.
 * The rows are the repository's (partition.repository.ts); every change is announced here.
 */
export class PartitionStore {
  private readonly repository: PartitionRepository;
  private keyCheck: { at: number; names: Promise<string[]> } | null = null;
  private readonly verifiedPartitionKeys = new Set<string>();

  constructor(
    prisma: PrismaClient,
    /** the master key, or how to get it when first needed (the CLI resolves it only for commands that seal) */
    private readonly masterKeySource: Buffer | (() => Buffer),
    private readonly onChange?: (change: MetadataChange) => Promise<void>,
  ) {
    this.repository = new PartitionRepository(prisma);
  }

  private masterKey(): Buffer {
    return typeof this.masterKeySource === 'function' ? this.masterKeySource() : this.masterKeySource;
  }

  async create(name: string, flags: Partial<PartitionFlags> = {}): Promise<Partition> {
    if (!PARTITION_NAME_PATTERN.test(name)) {
      throw new TsbError(
        'INPUT_VALIDATION_FAILED',
        'partition name must be 1-64 characters: letters, digits, ".", "_" or "-", starting with a letter or digit',
      );
    }
    const id = randomUUID();
    const partitionKey = randomBytes(32);
    const [attestation, timestamp] = await Promise.all([generateP256(), generateP256()]);
    try {
      return await this.repository.create({
        id,
        name,
        partitionKeySealed: seal(this.masterKey(), partitionKey, partitionKeyBinding(id)),
        attestationKeySealed: seal(partitionKey, attestation.privateKey, attestationKeyBinding(id)),
        attestationPublicKey: attestation.publicKey,
        timestampKeySealed: seal(partitionKey, timestamp.privateKey, timestampKeyBinding(id)),
        timestampPublicKey: timestamp.publicKey,
        ...DEFAULT_PARTITION_FLAGS,
        ...flags,
      });
    } finally {
      partitionKey.fill(0);
    }
  }

  findByName(name: string): Promise<Partition | null> {
    return this.repository.findByName(name);
  }

  /** The stored row (inside the caller's transaction when `tx` is given), never a cached copy. */
  findById(id: string, tx?: Prisma.TransactionClient): Promise<Partition | null> {
    return this.repository.findById(id, tx);
  }

  async requireByName(name: string): Promise<Partition> {
    const partition = await this.findByName(name);
    if (!partition) throw new TsbError('NOT_FOUND', `partition "${name}" does not exist`);
    return partition;
  }

  /** Changes the partition security policy; every process drops its cached copy of the partition. */
  async updateFlags(id: string, flags: Partial<PartitionFlags>): Promise<Partition> {
    const partition = await this.repository.updateFlags(id, flags);
    await this.onChange?.({ kind: 'partition', id });
    return partition;
  }

  /** Sets (or, with null, removes) the approver notification webhook; every process drops its cached copy. */
  async updateWebhookUrl(id: string, url: string | null): Promise<void> {
    await this.repository.updateWebhookUrl(id, url);
    await this.onChange?.({ kind: 'partition', id });
  }

  /** Lets approvers authenticate by their key's signatures alone (or not); every process drops its cached copy. */
  async updateApproverKeyAuthentication(id: string, enabled: boolean): Promise<void> {
    await this.repository.updateApproverKeyAuthentication(id, enabled);
    await this.onChange?.({ kind: 'partition', id });
  }

  /**
   * Changes the partition security policy inside the caller's transaction and answers the announcement
   * to make once that transaction is committed (before, another process could re-read the old row). The
   * transaction notifies the other processes itself, at its commit: they hear of the change also when this
   * process dies right after the commit (a four-eyes change is not simply run again).
   */
  async updateFlagsInTransaction(
    tx: Prisma.TransactionClient,
    id: string,
    flags: Partial<PartitionFlags>,
  ): Promise<() => Promise<void>> {
    await this.repository.updateFlags(id, flags, tx);
    await announceChange(tx, { kind: 'partition', id });
    return async () => {
      await this.onChange?.({ kind: 'partition', id });
    };
  }

  /**
   * Gives a partition created before the SKA workflow its timestamp key. Safe to race: only the first
   * writer's key is stored, and every caller gets the stored row back.
   */
  async ensureTimestampKey(partition: Partition): Promise<Partition> {
    if (partition.timestampKeySealed && partition.timestampPublicKey) return partition;
    const partitionKey = this.openPartitionKey(partition);
    try {
      const timestamp = await generateP256();
      await this.repository.storeTimestampKeyIfNone(
        partition.id,
        seal(partitionKey, timestamp.privateKey, timestampKeyBinding(partition.id)),
        timestamp.publicKey,
      );
    } finally {
      partitionKey.fill(0);
    }
    await this.onChange?.({ kind: 'partition', id: partition.id });
    const stored = await this.findById(partition.id);
    if (!stored) throw new TsbError('INSUFFICIENT_LOGIN_INFORMATION', 'the partition no longer exists');
    return stored;
  }

  /**
   * Stores the partition's attestation and timestamp certificates where none is stored yet (first writer
   * wins when processes race) and answers the stored row.
   */
  async storeCertificates(
    partitionId: string,
    certificates: { attestationCertificate?: Buffer; timestampCertificate?: Buffer },
  ): Promise<Partition> {
    if (certificates.attestationCertificate) {
      await this.repository.storeAttestationCertificateIfNone(
        partitionId,
        certificates.attestationCertificate,
      );
    }
    if (certificates.timestampCertificate) {
      await this.repository.storeTimestampCertificateIfNone(partitionId, certificates.timestampCertificate);
    }
    await this.onChange?.({ kind: 'partition', id: partitionId });
    const stored = await this.findById(partitionId);
    if (!stored) throw new TsbError('INSUFFICIENT_LOGIN_INFORMATION', 'the partition no longer exists');
    return stored;
  }

  /**
   * The partitions whose key the master key in memory does not open (readiness: such a process can serve
   * nothing there), empty when it opens every one. Each partition key is opened and wiped at once; the answer
   * is kept for KEY_CHECK_INTERVAL_MS, so readiness probes cost one scan per interval whatever their rate.
   */
  partitionsTheMasterKeyCannotOpen(): Promise<string[]> {
    const now = performance.now();
    if (this.keyCheck && now - this.keyCheck.at < KEY_CHECK_INTERVAL_MS) return this.keyCheck.names;
    const names = this.scanPartitionKeys();
    this.keyCheck = { at: now, names };
    names.catch(() => {
      if (this.keyCheck?.names === names) this.keyCheck = null;
    });
    return names;
  }

  private async scanPartitionKeys(): Promise<string[]> {
    const cannotOpen: string[] = [];
    for (const partition of await this.repository.sealedPartitionKeys()) {
      if (this.verifiedPartitionKeys.has(partition.id)) continue;
      try {
        this.openPartitionKey(partition).fill(0);
        // a partition key is sealed once, at creation: once opened, it need not be opened again
        this.verifiedPartitionKeys.add(partition.id);
      } catch (error) {
        if (!(error instanceof UnsealError)) throw error;
        cannotOpen.push(partition.name);
      }
    }
    return cannotOpen;
  }

  /** Opens the partition key. Throws when the master key is not the one the partition was sealed with. */
  openPartitionKey(partition: Pick<Partition, 'id' | 'partitionKeySealed'>): Buffer {
    return unseal(this.masterKey(), partition.partitionKeySealed, partitionKeyBinding(partition.id));
  }
}
