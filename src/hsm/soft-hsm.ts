import { randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { type Clock, systemClock } from '../clock.js';
import { shutdownDerivationPool } from '../crypto/derivation/derivation-pool.js';
import { shutdownKeygenPool } from '../crypto/mechanisms/key-mechanisms.js';
import { type RequestSecretPurpose, requestSecretBinding, seal, unseal } from '../crypto/seal.js';
import { shutdownSignaturePool } from '../crypto/signatures/signatures-pool.js';
import { shutdownSigningLane } from '../crypto/signatures/signing-lane.js';
import { shutdownLmsPool } from '../crypto/stateful/lms-pool.js';
import { shutdownXmssPool } from '../crypto/stateful/xmss-pool.js';
import { type IssuedTimestamp, issueTimestamp, type TimestampInput } from '../crypto/x509/rfc3161.js';
import { TsbError } from '../errors.js';
import type { Partition, PrismaClient } from '../generated/prisma/client.js';
import { CertificateAuthorityStore } from '../keystore/certificates.js';
import { KeyTrash } from '../keystore/key-trash.js';
import { KeyStore } from '../keystore/keys/key-store.js';
import type { KeyCacheStatistics } from '../keystore/keys/key-store.types.js';
import { MetadataCache } from '../keystore/metadata-cache.js';
import { PartitionBackups } from '../keystore/partition-backup.js';
import { PartitionKeyring } from '../keystore/partitions/partition-keyring.js';
import { PartitionStore, TIMESTAMP_KEY_NAME } from '../keystore/partitions/partition-store.js';
import { addUseCountsThroughPrisma } from '../keystore/use-count-writers.js';
import { UseCounter } from '../keystore/use-counter.js';
import { shutdownApproverKeyPool } from '../ska/approver-keys-pool.js';
import type { ChallengeContent } from '../ska/challenge.js';
import { encodeChallenge, timestampBlock } from '../ska/challenge-encoder.js';
import type { FreshnessWindow } from '../ska/timestamp-proof.js';
import { ApprovalGate } from './approval-gate.js';
import { ApprovalLedger } from './approval-ledger.js';
import { KeyCertificates } from './key-certificates/key-certificates.js';
import { KeyOperations } from './key-operations/key-operations.js';
import { KeyStatusChanges } from './key-status.js';

export interface SoftHsmOptions {
  prisma: PrismaClient;
  masterKey: Buffer;
  keyCacheSize: number;
  clock?: Clock;
  /** how old (and how far in the future) the time of a pre-signed approval may be; default 600 s and 0 s */
  approvalWindow?: FreshnessWindow;
}

const signAsync = promisify(sign);

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
  private readonly gate: ApprovalGate;
  private readonly ledger: ApprovalLedger;
  readonly operations: KeyOperations;
  readonly useCounter: UseCounter;
  /** partition and key rows in memory, kept true across processes by the change feed (`listenForChanges`) */
  readonly metadata: MetadataCache;
  /** block, unblock and policy change of keys (SKA ruleBlock, ruleUnblock, ruleModify) */
  readonly keyStatus: KeyStatusChanges;
  readonly clock: Clock;
  /** the service certificate chain (root, device) and the partitions' attestation and timestamp certificates */
  readonly certificates: CertificateAuthorityStore;
  /** certificates of stored keys: CSRs, self-signed and CA-issued certificates (reference §2.6) */
  readonly keyCertificates: KeyCertificates;
  /** keys deleted under key invalidation: listed, restored and purged by security officers */
  readonly trash: KeyTrash;
  /** partition backups (sealed material stays sealed) and their restore under the same master key */
  readonly backups: PartitionBackups;

  constructor(options: SoftHsmOptions) {
    const clock = options.clock ?? systemClock;
    this.clock = clock;
    this.ledger = new ApprovalLedger(options.prisma);
    this.gate = new ApprovalGate(
      clock,
      options.approvalWindow ?? { pastSeconds: 600, futureSeconds: 0 },
      this.ledger,
    );
    const gate = this.gate;
    this.metadata = new MetadataCache(options.prisma, {
      capacity: options.keyCacheSize,
      ttlMs: METADATA_TTL_MS,
    });
    this.partitions = new PartitionStore(options.prisma, options.masterKey, (change) =>
      this.metadata.announce(change),
    );
    this.keyring = new PartitionKeyring((partition) => this.partitions.openPartitionKey(partition));
    this.certificates = new CertificateAuthorityStore(
      options.prisma,
      options.masterKey,
      this.partitions,
      clock,
      (partition) => this.keyring.open(partition),
    );
    this.useCounter = new UseCounter(addUseCountsThroughPrisma(options.prisma));
    this.keys = new KeyStore(options.prisma, this.keyring, clock, options.keyCacheSize, this.metadata);
    this.operations = new KeyOperations(this.keys, this.useCounter, gate);
    this.keyStatus = new KeyStatusChanges(this.keys, gate, clock);
    this.keyCertificates = new KeyCertificates(this.keys, this.operations, clock);
    this.trash = new KeyTrash(options.prisma, this.keys);
    this.backups = new PartitionBackups(options.prisma, options.masterKey, clock);
  }

  /**
   * Deletes up to `limit` records of spent pre-signed approvals that no freshness window accepts any more
   * (approval-ledger.ts); answers how many.
   */
  forgetExpiredApprovals(limit: number): Promise<number> {
    return this.ledger.forgetExpired(limit);
  }

  /** Hears other processes' key and partition changes (PostgreSQL LISTEN), so cached rows stay true. */
  listenForChanges(databaseUrl: string, onError?: (error: unknown) => void): Promise<void> {
    return this.metadata.listen(databaseUrl, onError);
  }

  /** Read-only counts of the cache of ready key objects (hits, misses, entries, capacity), for metrics. */
  keyCacheStatistics(): KeyCacheStatistics {
    return this.keys.cacheStatistics();
  }

  /** Waits for key use counts still being written; call before the database client closes. */
  async close(): Promise<void> {
    await this.metadata.close();
    await this.useCounter.flush();
    await Promise.all([
      shutdownKeygenPool(),
      shutdownSignaturePool(),
      shutdownSigningLane(),
      shutdownLmsPool(),
      shutdownXmssPool(),
      shutdownApproverKeyPool(),
      shutdownDerivationPool(),
    ]);
  }

  /** The partition row, once its public keys were checked against its sealed keys (PartitionKeyring.open). */
  async partition(partitionId: string): Promise<Partition> {
    const partition = await this.metadata.partition(partitionId, async () => {
      const row = await this.partitions.findById(partitionId);
      if (row) this.keyring.open(row);
      return row;
    });
    if (!partition)
      throw new TsbError('INSUFFICIENT_LOGIN_INFORMATION', 'the caller’s partition does not exist');
    return partition;
  }

  /**
   * The challenge approvers sign for an SKA request (`approvalToBeSigned`), its timestamp block signed
   * by the partition's timestamp key as the TSB's HSM does.
   */
  async approvalChallenge(
    partition: Partition,
    content: Omit<ChallengeContent, 'timestampKeyName'>,
  ): Promise<Buffer> {
    const full = { ...content, timestampKeyName: TIMESTAMP_KEY_NAME };
    const withKey = await this.partitions.ensureTimestampKey(partition);
    const block = timestampBlock(full);
    const signature = await this.signWithTimestampKey(withKey, block);
    this.gate.challengeSigned(withKey.timestampPublicKey!, block, signature);
    return encodeChallenge(full, signature);
  }

  /** ECDSA P-256 / SHA-256 (DER) by the partition's timestamp key; its public key is `timestampPublicKey`. */
  async signWithTimestampKey(partition: Partition, data: Buffer): Promise<Buffer> {
    const withKey = await this.partitions.ensureTimestampKey(partition);
    const { timestampKey } = this.keyring.open(withKey);
    return signAsync('sha256', data, timestampKey!);
  }

  /** ECDSA P-256 / SHA-256 (DER) by the partition's attestation key; its public key is `attestationPublicKey`. */
  async signWithAttestationKey(partition: Partition, data: Buffer): Promise<Buffer> {
    const { attestationKey } = this.keyring.open(partition);
    return signAsync('sha256', data, attestationKey);
  }

  /** An RFC 3161 time-stamp token signed by the partition's timestamp key (its certificate is issued on first use). */
  async rfcTimestamp(partition: Partition, input: Omit<TimestampInput, 'genTime'>): Promise<IssuedTimestamp> {
    const certificates = await this.certificates.forPartition(partition);
    const { timestampKey } = this.keyring.open(certificates.partition);
    return issueTimestamp(
      { ...input, genTime: this.clock.now() },
      { key: timestampKey!, certificate: certificates.timestamp, chain: [certificates.device] },
    );
  }

  /** Seals a secret of an SKA request: the key password it must present again when it runs, or a decryption result. */
  sealRequestSecret(
    partition: Partition,
    requestId: string,
    purpose: RequestSecretPurpose,
    secret: Buffer,
  ): Buffer {
    const { partitionKey } = this.keyring.open(partition);
    return seal(partitionKey, secret, requestSecretBinding(partition.id, requestId, purpose));
  }

  openRequestSecret(
    partition: Partition,
    requestId: string,
    purpose: RequestSecretPurpose,
    sealed: Uint8Array,
  ): Buffer {
    const { partitionKey } = this.keyring.open(partition);
    return unseal(partitionKey, sealed, requestSecretBinding(partition.id, requestId, purpose));
  }

  random(length: number): Buffer {
    if (!Number.isInteger(length) || length < 1 || length > MAX_RANDOM_BYTES) {
      throw new TsbError('INVALID_NUMBER_RANGE', `length must be an integer from 1 to ${MAX_RANDOM_BYTES}`);
    }
    return randomBytes(length);
  }
}
