import type { Clock } from '../../clock.js';
import { capabilitiesOf, normalizeAlgorithm, resolveCurve } from '../../crypto/algorithms.js';
import { generateDerivableKey } from '../../crypto/derivation/key-derivation.js';
import { generateKey, type KeyMaterial, type ReadyKey } from '../../crypto/mechanisms/key-mechanisms.js';
import { TsbError } from '../../errors.js';
import type { Key, Partition, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { ATTESTATION_KEY_NAME, signStatement } from '../attestation.js';
import { type KeyAttributes, type KeyAttributesInput, resolveKeyAttributes } from '../key-attributes.js';
import { canonicalLabel, normalizeLabel } from '../key-label.js';
import { hashPassword, normalizePassword, type PasswordInput } from '../key-password.js';
import type { MetadataCache } from '../metadata-cache.js';
import type { PartitionKeyring } from '../partitions/partition-keyring.js';
import { ACTIVE, KeyRepository, type KeyStatusChange } from './key.repository.js';
import { keyAttestationXml } from './key-attestation-view.js';
import { type KeyChange, type KeyChangeListener, KeyChanges } from './key-changes.js';
import {
  assertDerivationFits,
  assertWritable,
  importedPrivateAttributes,
  resolveAddressFormat,
  resolveKeyPolicy,
} from './key-input-rules.js';
import type {
  CreateKeyInput,
  ExportedKey,
  ImportKeyInput,
  KeyCacheStatistics,
  KeystoreStatistics,
  SeedImportInput,
  SignedKeyAttributes,
} from './key-store.types.js';
import { KeyTransfers } from './key-transfers.js';
import { keyAttributesJson } from './key-view.js';
import { ReadyKeys } from './ready-keys.js';
import { SealedKeyWriter } from './sealed-key-writer.js';
import { type SignatureIndex, StatefulIndices } from './stateful-indices.js';
import { VerifiedPasswords } from './verified-passwords.js';

/**
 * Create, read, import, export and destroy keys of one partition at a time: the key store's lifecycle
 * and the one entry other parts use. Private and secret material is sealed under the partition key
 * before it reaches the database (key.repository.ts) and is opened only into the bounded cache of ready
 * key objects (ready-keys.ts); every change is published through key-changes.ts.
 */
export class KeyStore {
  private readonly repository: KeyRepository;
  private readonly readyKeys: ReadyKeys;
  private readonly passwords: VerifiedPasswords;
  private readonly changes: KeyChanges;
  private readonly writer: SealedKeyWriter;
  private readonly transfers: KeyTransfers;
  private readonly indices: StatefulIndices;

  constructor(
    prisma: PrismaClient,
    private readonly keyring: PartitionKeyring,
    private readonly clock: Clock,
    cacheCapacity: number,
    private readonly metadata: MetadataCache | null = null,
  ) {
    this.repository = new KeyRepository(prisma);
    this.readyKeys = new ReadyKeys(keyring, cacheCapacity);
    this.passwords = new VerifiedPasswords(cacheCapacity);
    this.writer = new SealedKeyWriter(this.repository, keyring);
    this.changes = new KeyChanges((keyId) => this.readyKeys.drop(keyId), metadata);
    this.transfers = new KeyTransfers(this, this.repository, this.writer, this.changes, clock);
    this.indices = new StatefulIndices(this.repository);
  }

  /**
   * Reserves the one-time index of a stateful key's next signature, durably (committed) before it returns;
   * OPERATION_FORBIDDEN_FOR_KEY when the key has no index left. See stateful-indices.ts.
   */
  reserveSignatureIndex(key: Key): Promise<SignatureIndex> {
    return this.indices.reserve(key);
  }

  /** Active stateful keys of all partitions per algorithm (metrics). */
  statefulSummary() {
    return this.repository.statefulSummary();
  }

  async create(partition: Partition, input: CreateKeyInput): Promise<SignedKeyAttributes> {
    assertWritable(partition);
    const label = canonicalLabel(input.label);
    const algorithm = normalizeAlgorithm(input.algorithm);
    const password = normalizePassword(input.password);
    const policy = await resolveKeyPolicy(input.policy, this.clock);
    const capabilities = capabilitiesOf(algorithm);
    const attributes = resolveKeyAttributes(input.attributes, {
      capabilities: { algorithm, ...capabilities },
      hasPolicy: policy !== null,
      publicOnly: false,
    });
    assertDerivationFits(attributes, algorithm, resolveCurve(algorithm, input.curveOid)?.oid ?? null);
    await this.repository.assertLabelFree(partition.id, label);
    const curveOid = resolveCurve(algorithm, input.curveOid)?.oid ?? null;
    // a derivable key is the master key of a fresh random seed, so it has a chain code
    const derivable =
      attributes.bip32 || attributes.slip10 ? generateDerivableKey(algorithm, curveOid) : null;
    const material =
      derivable?.material ??
      (await generateKey({ algorithm, keySize: input.keySize ?? null, curveOid: input.curveOid ?? null }));
    const addressFormat = resolveAddressFormat(input.addressFormat, material, policy !== null);
    const key = await this.writer.insert(partition, {
      label,
      externalId: input.id ?? null,
      origin: 'generated',
      material,
      attributes,
      policy,
      password,
      addressFormat,
      chainCode: derivable?.chainCode ?? null,
    });
    return this.statement(partition, key);
  }

  list(partition: Partition): Promise<string[]> {
    return this.repository.activeLabels(partition.id);
  }

  async attributes(
    partition: Partition,
    label: string,
    password?: PasswordInput,
  ): Promise<SignedKeyAttributes> {
    const key = await this.unlock(partition, label, password);
    return this.statement(partition, key);
  }

  async destroy(partition: Partition, label: string, password?: PasswordInput): Promise<void> {
    assertWritable(partition);
    const key = await this.unlock(partition, label, password);
    if (!partition.allowObjectDestruction) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the partition security policy does not allow destroying keys',
      );
    }
    const attributes = key.attributes as unknown as KeyAttributes;
    if (!attributes.destroyable) {
      throw new TsbError('OPERATION_FORBIDDEN_FOR_KEY', `key "${label}" is not destroyable`);
    }
    if (partition.keyInvalidation) await this.repository.invalidate(key, this.clock.now());
    else await this.repository.delete(key);
    await this.changes.keyChanged(partition.id, key, {
      partitionId: partition.id,
      keyId: key.id,
      kind: 'destroyed',
      byRequestId: null,
    });
  }

  /** Listens to changes that end what is pending on a key (block, policy change, destruction). */
  onChange(listener: KeyChangeListener): void {
    this.changes.onChange(listener);
  }

  /**
   * Writes a block, unblock or policy change if the key is still at the version read (compare-and-set);
   * inside `tx` when it must commit with other writes. The caller calls keyChanged once it committed.
   */
  writeStatusIfUnchanged(
    key: Key,
    data: KeyStatusChange & { lastRequestId: string | null },
    tx?: Prisma.TransactionClient,
  ): Promise<boolean> {
    return this.repository.updateIfVersion(key, data, tx);
  }

  /** Sets (or, with null, removes) the key's certificate and announces the change; 650 when the key is gone. */
  async setCertificate(partition: Partition, key: Key, certificate: Uint8Array | null): Promise<void> {
    if (!(await this.repository.setCertificate(key, certificate))) {
      throw new TsbError('KEY_NOT_EXISTENT', `key "${key.label}" does not exist`);
    }
    await this.keyChanged(partition, key, null);
  }

  /** Drops the cached key, tells every process, then the listeners (awaited: the caller's answer follows them). */
  keyChanged(partition: Partition, key: Key, change: KeyChange | null): Promise<void> {
    return this.changes.keyChanged(partition.id, key, change);
  }

  importPlain(partition: Partition, input: ImportKeyInput): Promise<SignedKeyAttributes> {
    return this.transfers.importPlain(partition, input);
  }

  importSeed(partition: Partition, input: SeedImportInput): Promise<SignedKeyAttributes> {
    return this.transfers.importSeed(partition, input);
  }

  exportPlain(partition: Partition, label: string, password?: PasswordInput): Promise<ExportedKey> {
    return this.transfers.exportPlain(partition, label, password);
  }

  async changePassword(
    partition: Partition,
    label: string,
    password: PasswordInput,
    newPassword: PasswordInput,
  ): Promise<void> {
    assertWritable(partition);
    const key = await this.unlock(partition, label, password);
    const next = normalizePassword(newPassword, 'newPassword');
    await this.repository.setPasswordHash(key, next === null ? null : await hashPassword(next));
    await this.changes.keyChanged(partition.id, key, null);
  }

  /** The whole bounded cache of ready key objects (every partition) as metrics report it: counts, never the entries. */
  cacheStatistics(): KeyCacheStatistics {
    return this.readyKeys.statistics();
  }

  /** Drops every ready key object (they are rebuilt on next use); for measurements such as bench/scale-bench.ts. */
  emptyCache(): void {
    this.readyKeys.clear();
  }

  async statistics(partition: Partition): Promise<KeystoreStatistics> {
    const keysByAlgorithm: Record<string, number> = {};
    let keyCount = 0;
    let invalidatedKeyCount = 0;
    for (const group of await this.repository.countsByAlgorithmAndStatus(partition.id)) {
      if (group.status === ACTIVE) {
        keyCount += group.count;
        keysByAlgorithm[group.algorithm] = (keysByAlgorithm[group.algorithm] ?? 0) + group.count;
      } else {
        invalidatedKeyCount += group.count;
      }
    }
    return {
      partition: partition.name,
      keyCount,
      invalidatedKeyCount,
      keysByAlgorithm,
      // the partition's own share: the whole cache's figures would show other partitions' activity
      keyCache: this.readyKeys.partitionStatistics(partition.id),
    };
  }

  /**
   * The ready (unsealed, parsed) private or secret key for an operation, from the bounded cache
   * when the key has not changed since it was cached.
   */
  async readyKey(
    partition: Partition,
    label: string,
    password?: PasswordInput,
  ): Promise<{ key: Key; ready: ReadyKey }> {
    const key = await this.unlock(partition, label, password, { cached: true });
    return { key, ready: this.readyKeys.ready(partition, key) };
  }

  /** Stores key material made inside the HSM (unwrapped or derived) as a new key with the given attributes and policy. */
  async storeNew(
    partition: Partition,
    input: {
      label: string;
      material: KeyMaterial;
      attributes: KeyAttributesInput | undefined;
      policy?: unknown;
      password?: PasswordInput;
      chainCode?: Buffer | null;
      derivation?: { type: string; value: string } | null;
      /** the SKA request storing it: a re-run of that request finds the key it already made */
      requestId?: string | null;
    },
  ): Promise<SignedKeyAttributes> {
    assertWritable(partition);
    const label = canonicalLabel(input.label);
    if (input.requestId) {
      const made = await this.repository.findMadeByRequest(partition.id, label, input.requestId);
      if (made) return this.statement(partition, made);
    }
    const policy = await resolveKeyPolicy(input.policy, this.clock);
    const algorithm = input.material.algorithm;
    const attributes = resolveKeyAttributes(input.attributes, {
      capabilities: { algorithm, ...capabilitiesOf(algorithm) },
      hasPolicy: policy !== null,
      publicOnly: false,
    });
    assertDerivationFits(attributes, algorithm, input.material.curveOid);
    await this.repository.assertLabelFree(partition.id, label);
    const key = await this.writer.insert(partition, {
      label,
      externalId: null,
      origin: 'imported',
      material: input.material,
      attributes: importedPrivateAttributes(attributes),
      policy,
      password: normalizePassword(input.password),
      addressFormat: null,
      chainCode: input.chainCode ?? null,
      derivation: input.derivation ?? null,
      requestId: input.requestId ?? null,
    });
    return this.statement(partition, key);
  }

  /** An active key of the partition whose password (if it has one) was given correctly. */
  async unlock(
    partition: Partition,
    label: string,
    password?: PasswordInput,
    options: { cached?: boolean } = {},
  ): Promise<Key> {
    const key = await this.requireKey(partition, label, options);
    await this.passwords.check(key, password);
    return key;
  }

  /** An active key of the partition; another partition's key or a deleted one is simply "not existent". */
  async requireKey(partition: Partition, name: string, options: { cached?: boolean } = {}): Promise<Key> {
    const label = normalizeLabel(name);
    const load = () => this.repository.findByLabel(partition.id, label);
    const key =
      options.cached && this.metadata ? await this.metadata.key(partition.id, label, load) : await load();
    if (!key || key.status !== ACTIVE) {
      throw new TsbError('KEY_NOT_EXISTENT', `key "${name}" does not exist`);
    }
    this.readyKeys.assertOwnPublicKey(partition, key);
    return key;
  }

  /** The TSB `SignedKeyAttributes` of a key: its JSON view, its attestation XML and the XML's signature. */
  async statement(partition: Partition, key: Key): Promise<SignedKeyAttributes> {
    const json = keyAttributesJson(key, this.clock.now());
    const { attestationKey } = this.keyring.open(partition);
    const xml = keyAttestationXml(key, json);
    const signature = await signStatement(attestationKey, xml);
    return {
      xml,
      json,
      xmlSignature: signature.toString('base64'),
      attestationKeyName: ATTESTATION_KEY_NAME,
    };
  }

  /** The unsealed material of a key (private/secret bytes); callers must not keep or log it. */
  materialOf(partition: Partition, key: Key): KeyMaterial {
    return this.readyKeys.materialOf(partition, key);
  }
}
