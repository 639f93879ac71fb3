import { createHash, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import {
  ADDRESS_FORMATS,
  type AddressFormat,
  addressFormatFits,
  truncatedAddress,
} from '../crypto/addresses/address-formats.js';
import {
  capabilitiesOf,
  curveSupportsDerivation,
  type KeyAlgorithm,
  normalizeAlgorithm,
  resolveCurve,
} from '../crypto/algorithms.js';
import { derivationTypeOf, generateDerivableKey } from '../crypto/derivation/key-derivation.js';
import {
  exportPrivateKey,
  generateKey,
  importKey,
  type KeyMaterial,
  loadPrivate,
  type ReadyKey,
} from '../crypto/mechanisms/key-mechanisms.js';
import { keyMaterialBinding, seal, UnsealError, unseal } from '../crypto/seal.js';
import { TsbError } from '../errors.js';
import { type Key, type Partition, Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { decodeKeyField, toBase64, toBytes } from '../lib/encoding.js';
import { isoSeconds } from '../lib/time.js';
import { BoundedTtlCache } from '../lib/ttl-cache.js';
import type { SkaPolicy } from '../ska/policy.schema.js';
import { type NormalizedPolicy, toPolicyJson, validatePolicy } from '../ska/policy-validate.js';
import { renderPolicyXml } from '../ska/policy-xml.js';
import { ATTESTATION_KEY_NAME, renderKeyXml, signStatement } from './attestation.js';
import {
  type KeyAttributes,
  type KeyAttributesInput,
  publicAttributeView,
  resolveKeyAttributes,
} from './key-attributes.js';
import { KeyCache } from './key-cache.js';
import { canonicalLabel, normalizeLabel } from './key-label.js';
import { checkKeyPassword, hashPassword, normalizePassword, type PasswordInput } from './key-password.js';
import type {
  CreateKeyInput,
  ExportedKey,
  ImportKeyInput,
  KeyAttributesJson,
  KeyCacheStatistics,
  KeystoreStatistics,
  SignedKeyAttributes,
} from './keystore.types.js';
import type { MetadataCache } from './metadata-cache.js';
import type { PartitionKeyring } from './partition-keyring.js';

const ACTIVE = 'active';
/** a key in the trash bin (key invalidation): it looks deleted, its label stays taken */
export const INVALIDATED = 'invalidated';

/** A change that ends what was pending on a key: the workflow cancels the key's open requests. */
export interface KeyChange {
  partitionId: string;
  keyId: string;
  kind: 'blocked' | 'policy' | 'destroyed';
  /** the SKA request that made the change (it is not cancelled), or null */
  byRequestId: string | null;
}

export type KeyChangeListener = (change: KeyChange) => Promise<void>;
const VERIFIED_PASSWORD_TTL_MS = 5 * 60_000;

/**
 * Create, read, import, export and destroy keys of one partition at a time. Private and secret
 * material is sealed under the partition key before it reaches the database and is opened only
 * into the bounded cache of ready key objects.
 */
export class KeyStore {
  private readonly cache: KeyCache<ReadyKey>;
  private readonly verifiedPasswords: BoundedTtlCache<true>;
  private readonly changeListeners: KeyChangeListener[] = [];

  constructor(
    private readonly prisma: PrismaClient,
    private readonly keyring: PartitionKeyring,
    private readonly clock: Clock,
    cacheCapacity: number,
    private readonly metadata: MetadataCache | null = null,
  ) {
    this.cache = new KeyCache<ReadyKey>(cacheCapacity);
    this.verifiedPasswords = new BoundedTtlCache<true>(cacheCapacity);
  }

  async create(partition: Partition, input: CreateKeyInput): Promise<SignedKeyAttributes> {
    assertWritable(partition);
    const label = canonicalLabel(input.label);
    const algorithm = normalizeAlgorithm(input.algorithm);
    const password = normalizePassword(input.password);
    const policy = this.resolvePolicy(input.policy);
    const capabilities = capabilitiesOf(algorithm);
    const attributes = resolveKeyAttributes(input.attributes, {
      capabilities: { algorithm, ...capabilities },
      hasPolicy: policy !== null,
      publicOnly: false,
    });
    assertDerivationFits(attributes, algorithm, resolveCurve(algorithm, input.curveOid)?.oid ?? null);
    await this.assertLabelFree(partition.id, label);
    const curveOid = resolveCurve(algorithm, input.curveOid)?.oid ?? null;
    // a derivable key is the master key of a fresh random seed, so it has a chain code
    const derivable =
      attributes.bip32 || attributes.slip10 ? generateDerivableKey(algorithm, curveOid) : null;
    const material =
      derivable?.material ??
      (await generateKey({ algorithm, keySize: input.keySize ?? null, curveOid: input.curveOid ?? null }));
    const addressFormat = resolveAddressFormat(input.addressFormat, material, policy !== null);
    const key = await this.insert(partition, {
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

  async list(partition: Partition): Promise<string[]> {
    const keys = await this.prisma.key.findMany({
      where: { partitionId: partition.id, status: ACTIVE },
      select: { label: true },
      orderBy: { label: 'asc' },
    });
    return keys.map((key) => key.label);
  }

  async attributes(
    partition: Partition,
    label: string,
    password?: PasswordInput,
  ): Promise<SignedKeyAttributes> {
    const key = await this.requireKey(partition, label);
    await this.checkPassword(key, password);
    return this.statement(partition, key);
  }

  async destroy(partition: Partition, label: string, password?: PasswordInput): Promise<void> {
    assertWritable(partition);
    const key = await this.requireKey(partition, label);
    await this.checkPassword(key, password);
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
    if (partition.keyInvalidation) {
      await this.prisma.key.update({
        where: { id: key.id },
        data: { status: INVALIDATED, invalidatedAt: this.clock.now(), version: { increment: 1 } },
      });
    } else {
      await this.prisma.key.delete({ where: { id: key.id } });
    }
    this.cache.drop(key.id);
    await this.announce(partition, key.label);
    await this.changed({ partitionId: partition.id, keyId: key.id, kind: 'destroyed', byRequestId: null });
  }

  /** Listens to changes that end what is pending on a key (block, policy change, destruction). */
  onChange(listener: KeyChangeListener): void {
    this.changeListeners.push(listener);
  }

  /** Drops the cached key, tells every process, then the listeners (awaited: the caller's answer follows them). */
  async keyChanged(partition: Partition, key: Key, change: KeyChange | null): Promise<void> {
    this.cache.drop(key.id);
    await this.announce(partition, key.label);
    if (change) await this.changed(change);
  }

  private async changed(change: KeyChange): Promise<void> {
    for (const listener of this.changeListeners) await listener(change);
  }

  async importPlain(partition: Partition, input: ImportKeyInput): Promise<SignedKeyAttributes> {
    assertWritable(partition);
    if (!partition.allowKeyImport) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the partition security policy does not allow importing keys',
      );
    }
    const label = canonicalLabel(input.label);
    const algorithm = normalizeAlgorithm(input.algorithm);
    const material = importKey({
      algorithm,
      curveOid: input.curveOid ?? null,
      privateKey: optionalField(input.privateKey, 'privateKey', 'KEY_INVALID_ENCODING'),
      publicKey: optionalField(input.publicKey, 'publicKey', 'KEY_INVALID_ENCODING'),
      secretKey: optionalField(input.secretKey, 'secretKey', 'KEY_INVALID_ENCODING'),
      certificate: optionalField(input.certificate, 'certificate', 'CERTIFICATE_INVALID_ENCODING'),
    });
    const certificate = material.certificate ?? null;
    const publicOnly = material.secret === null;
    const existing = await this.prisma.key.findUnique({
      where: { partitionId_label: { partitionId: partition.id, label } },
    });
    if (existing) {
      return this.reimportPublicPart(partition, existing, material, publicOnly);
    }
    const password = normalizePassword(input.password);
    const policy = publicOnly ? null : this.resolvePolicy(input.policy);
    const attributes = resolveKeyAttributes(input.attributes ?? undefined, {
      capabilities: { algorithm, ...capabilitiesOf(algorithm) },
      hasPolicy: policy !== null,
      publicOnly,
    });
    assertDerivationFits(attributes, algorithm, material.curveOid);
    const addressFormat = resolveAddressFormat(input.addressFormat, material, policy !== null);
    const key = await this.insert(partition, {
      label,
      externalId: input.id ?? null,
      origin: 'imported',
      material,
      attributes: publicOnly
        ? attributes
        : { ...attributes, alwaysSensitive: false, neverExtractable: false },
      policy,
      password,
      addressFormat,
      certificate,
    });
    return this.statement(partition, key);
  }

  async exportPlain(partition: Partition, label: string, password?: PasswordInput): Promise<ExportedKey> {
    const key = await this.requireKey(partition, label);
    await this.checkPassword(key, password);
    const attributes = key.attributes as unknown as KeyAttributes;
    if (key.policy !== null) {
      throw new TsbError(
        'OPERATION_FORBIDDEN_FOR_KEY',
        `key "${label}" has an SKA policy and can never be exported`,
      );
    }
    if (!attributes.extractable || attributes.sensitive) {
      throw new TsbError(
        'OPERATION_FORBIDDEN_FOR_KEY',
        `key "${label}" can be exported only when it is extractable and not sensitive`,
      );
    }
    if (!partition.allowKeyExport) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the partition security policy does not allow exporting keys',
      );
    }
    const exported = key.materialSealed
      ? exportPrivateKey(this.materialOf(partition, key))
      : { publicKey: key.publicKey ? Buffer.from(key.publicKey) : undefined };
    return {
      label: key.label,
      algorithm: key.algorithm,
      privateKey: toBase64(exported.privateKey),
      publicKey: toBase64(exported.publicKey ?? key.publicKey),
      secretKey: toBase64(exported.secretKey),
      certificate: toBase64(key.certificate),
    };
  }

  async changePassword(
    partition: Partition,
    label: string,
    password: PasswordInput,
    newPassword: PasswordInput,
  ): Promise<void> {
    assertWritable(partition);
    const key = await this.requireKey(partition, label);
    await this.checkPassword(key, password);
    const next = normalizePassword(newPassword, 'newPassword');
    await this.prisma.key.update({
      where: { id: key.id },
      data: { passwordHash: next === null ? null : await hashPassword(next), version: { increment: 1 } },
    });
    this.cache.drop(key.id);
    await this.announce(partition, key.label);
  }

  /** The bounded cache of ready key objects as metrics report it: read-only counts, never the entries. */
  cacheStatistics(): KeyCacheStatistics {
    const { size, capacity, hits, misses } = this.cache;
    return { size, capacity, hits, misses };
  }

  /** Drops every ready key object (they are rebuilt on next use); for measurements such as bench/scale-bench.ts. */
  emptyCache(): void {
    this.cache.clear();
  }

  async statistics(partition: Partition): Promise<KeystoreStatistics> {
    const groups = await this.prisma.key.groupBy({
      by: ['algorithm', 'status'],
      where: { partitionId: partition.id },
      _count: { _all: true },
    });
    const keysByAlgorithm: Record<string, number> = {};
    let keyCount = 0;
    let invalidatedKeyCount = 0;
    for (const group of groups) {
      if (group.status === ACTIVE) {
        keyCount += group._count._all;
        keysByAlgorithm[group.algorithm] = (keysByAlgorithm[group.algorithm] ?? 0) + group._count._all;
      } else {
        invalidatedKeyCount += group._count._all;
      }
    }
    return {
      partition: partition.name,
      keyCount,
      invalidatedKeyCount,
      keysByAlgorithm,
      keyCache: this.cacheStatistics(),
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
    const key = await this.requireKey(partition, label, { cached: true });
    await this.checkPassword(key, password);
    const cached = this.cache.get(key.id, key.version);
    if (cached) return { key, ready: cached };
    if (!key.materialSealed) {
      throw new TsbError('OPERATION_FORBIDDEN_FOR_KEY', `key "${label}" holds only a public key`);
    }
    const ready = loadPrivate(this.materialOf(partition, key));
    this.cache.set(key.id, key.version, ready);
    return { key, ready };
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
      const made = await this.prisma.key.findFirst({
        where: { partitionId: partition.id, label, lastRequestId: input.requestId },
      });
      if (made) return this.statement(partition, made);
    }
    const policy = this.resolvePolicy(input.policy);
    const algorithm = input.material.algorithm;
    const attributes = resolveKeyAttributes(input.attributes, {
      capabilities: { algorithm, ...capabilitiesOf(algorithm) },
      hasPolicy: policy !== null,
      publicOnly: false,
    });
    assertDerivationFits(attributes, algorithm, input.material.curveOid);
    await this.assertLabelFree(partition.id, label);
    const key = await this.insert(partition, {
      label,
      externalId: null,
      origin: 'imported',
      material: input.material,
      attributes: { ...attributes, alwaysSensitive: false, neverExtractable: false },
      policy,
      password: normalizePassword(input.password),
      addressFormat: null,
      chainCode: input.chainCode ?? null,
      derivation: input.derivation ?? null,
      requestId: input.requestId ?? null,
    });
    return this.statement(partition, key);
  }

  /**
   * Checks a key's password. A successful check is remembered (by a hash of the password, for this key
   * version) for a few minutes, so a password-protected key does not cost an scrypt run on every use.
   */
  private async checkPassword(key: Key, password: PasswordInput): Promise<void> {
    const given = normalizePassword(password);
    if (key.passwordHash === null || given === null) return checkKeyPassword(key.passwordHash, given);
    const entry = `${key.id}:${key.version}:${createHash('sha256').update(given).digest('base64')}`;
    if (this.verifiedPasswords.get(entry)) return;
    await checkKeyPassword(key.passwordHash, given);
    this.verifiedPasswords.set(entry, true, Date.now() + VERIFIED_PASSWORD_TTL_MS);
  }

  /** Tells every process (this one at once) that the key under `label` changed. */
  private async announce(partition: Partition, label: string): Promise<void> {
    await this.metadata?.announce({ kind: 'key', partitionId: partition.id, label });
  }

  /** An active key of the partition whose password (if it has one) was given correctly. */
  async unlock(
    partition: Partition,
    label: string,
    password?: PasswordInput,
    options: { cached?: boolean } = {},
  ): Promise<Key> {
    const key = await this.requireKey(partition, label, options);
    await this.checkPassword(key, password);
    return key;
  }

  /** An active key of the partition; another partition's key or a deleted one is simply "not existent". */
  async requireKey(partition: Partition, name: string, options: { cached?: boolean } = {}): Promise<Key> {
    const label = normalizeLabel(name);
    const load = () =>
      this.prisma.key.findUnique({ where: { partitionId_label: { partitionId: partition.id, label } } });
    const key =
      options.cached && this.metadata ? await this.metadata.key(partition.id, label, load) : await load();
    if (!key || key.status !== ACTIVE) {
      throw new TsbError('KEY_NOT_EXISTENT', `key "${name}" does not exist`);
    }
    return key;
  }

  async statement(partition: Partition, key: Key): Promise<SignedKeyAttributes> {
    const json = this.describe(key);
    const { attestationKey } = this.keyring.open(partition);
    const xml = renderKeyXml({
      uuid: key.id,
      label: key.label,
      externalId: key.externalId,
      origin: key.origin === 'imported' ? 'imported' : 'generated',
      publicOnly: key.publicOnly,
      symmetric: key.publicKey === null && !key.publicOnly,
      createTime: json.createTime,
      attestTime: json.attestTime,
      useCount: json.keyUsageCount,
      algorithm: key.algorithm,
      algorithmOid: key.algorithmOid,
      curveOid: key.curveOid,
      keySize: key.keySize,
      publicKeyBase64: json.publicKey,
      derivation: json.derivedAttributes
        ? { type: json.derivedAttributes.derivationType, value: json.derivedAttributes.derivationValue }
        : null,
      addressTruncated: json.addressTruncated?.address ?? null,
      attributes: json.attributes,
      policyXml:
        key.policy === null
          ? null
          : renderPolicyXml({
              ...(key.policy as unknown as NormalizedPolicy),
              keyStatus: { blocked: key.blocked },
            }),
    });
    const signature = await signStatement(attestationKey, xml);
    return {
      xml,
      json,
      xmlSignature: signature.toString('base64'),
      attestationKeyName: ATTESTATION_KEY_NAME,
    };
  }

  private describe(key: Key): KeyAttributesJson {
    const attributes = key.attributes as unknown as KeyAttributes;
    const address =
      key.addressFormat && key.publicKey
        ? {
            address: truncatedAddress(key.addressFormat as AddressFormat, Buffer.from(key.publicKey)),
            format: key.addressFormat,
          }
        : null;
    return {
      label: key.label,
      id: key.externalId,
      uuid: key.id,
      version: key.version,
      algorithm: key.algorithm,
      algorithmOid: key.algorithmOid,
      curveOid: key.curveOid,
      derivedAttributes: derivedAttributesOf(key, attributes),
      keySize: key.keySize,
      // every answered use is committed before its answer leaves (use-counter.ts): the stored count is exact
      keyUsageCount: Number(key.useCount),
      createTime: isoSeconds(key.createdAt),
      attestTime: isoSeconds(this.clock.now()),
      publicKey: toBase64(key.publicKey),
      addressTruncated: address,
      attributes: publicAttributeView(attributes),
      policy: key.policy === null ? null : wirePolicy(key.policy, key.blocked),
    };
  }

  private resolvePolicy(policy: unknown) {
    if (policy === undefined || policy === null) return null;
    return validatePolicy(policy, { now: this.clock.now() });
  }

  private async assertLabelFree(partitionId: string, label: string): Promise<void> {
    const existing = await this.prisma.key.findUnique({
      where: { partitionId_label: { partitionId, label } },
      select: { id: true },
    });
    if (existing) throw new TsbError('KEY_ALREADY_EXISTING', `a key named "${label}" already exists`);
  }

  private async insert(
    partition: Partition,
    fields: {
      label: string;
      externalId: string | null;
      origin: 'generated' | 'imported';
      material: KeyMaterial;
      attributes: KeyAttributes;
      policy: ReturnType<typeof validatePolicy> | null;
      password: string | null;
      addressFormat: AddressFormat | null;
      certificate?: Buffer | null;
      chainCode?: Buffer | null;
      derivation?: { type: string; value: string } | null;
      requestId?: string | null;
    },
  ): Promise<Key> {
    const id = randomUUID();
    const { partitionKey } = this.keyring.open(partition);
    const { material } = fields;
    try {
      return await this.prisma.key.create({
        data: {
          id,
          partitionId: partition.id,
          label: fields.label,
          externalId: fields.externalId,
          algorithm: material.algorithm,
          algorithmOid: material.algorithmOid,
          curveOid: material.curveOid,
          keySize: material.keySize,
          origin: fields.origin,
          publicOnly: material.secret === null,
          publicKey: material.publicKey && toBytes(material.publicKey),
          certificate: fields.certificate ? toBytes(fields.certificate) : null,
          materialSealed:
            material.secret === null
              ? null
              : toBytes(seal(partitionKey, material.secret, keyMaterialBinding(partition.id, id))),
          passwordHash: fields.password === null ? null : await hashPassword(fields.password),
          attributes: fields.attributes as unknown as Prisma.InputJsonValue,
          policy:
            fields.policy === null ? Prisma.DbNull : (fields.policy as unknown as Prisma.InputJsonValue),
          blocked: fields.policy?.keyStatus.blocked ?? false,
          addressFormat: fields.addressFormat,
          chainCode: fields.chainCode ? toBytes(fields.chainCode) : null,
          derivationType: fields.derivation?.type ?? null,
          derivationValue: fields.derivation?.value ?? null,
          lastRequestId: fields.requestId ?? null,
        },
      });
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new TsbError('KEY_ALREADY_EXISTING', `a key named "${fields.label}" already exists`);
      }
      throw error;
    } finally {
      material.secret?.fill(0);
    }
  }

  /** Re-importing a public key or certificate under a taken name replaces it, never a private key. */
  private async reimportPublicPart(
    partition: Partition,
    existing: Key,
    material: KeyMaterial,
    publicOnly: boolean,
  ): Promise<SignedKeyAttributes> {
    if (!publicOnly || existing.status !== ACTIVE) {
      throw new TsbError('KEY_ALREADY_EXISTING', `a key named "${existing.label}" already exists`);
    }
    if (existing.algorithm !== material.algorithm) {
      throw new TsbError(
        'KEY_ALREADY_EXISTING',
        `a ${existing.algorithm} key named "${existing.label}" already exists`,
      );
    }
    if (!existing.publicOnly) {
      const samePublicKey =
        existing.publicKey !== null && material.publicKey?.equals(existing.publicKey) === true;
      if (!samePublicKey) {
        throw new TsbError(
          'PARSING_KEY',
          'the public key or certificate does not belong to the existing private key',
        );
      }
    }
    const key = await this.prisma.key.update({
      where: { id: existing.id },
      data: {
        publicKey:
          existing.publicOnly && material.publicKey ? toBytes(material.publicKey) : existing.publicKey,
        certificate: material.certificate ? toBytes(material.certificate) : existing.certificate,
        curveOid: material.curveOid,
        keySize: material.keySize,
        version: { increment: 1 },
      },
    });
    await this.announce(partition, key.label);
    return this.statement(partition, key);
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
      secret: key.materialSealed ? this.unsealMaterial(partitionKey, partition, key) : null,
    };
  }

  private unsealMaterial(partitionKey: Buffer, partition: Partition, key: Key): Buffer {
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
}

export function assertWritable(partition: Partition): void {
  if (partition.readOnly) {
    throw new TsbError(
      'SECURITY_NOT_ALLOWED',
      'the partition is read-only: keys cannot be created, changed or deleted',
    );
  }
}

function assertDerivationFits(
  attributes: KeyAttributes,
  algorithm: KeyAlgorithm,
  curveOid: string | null,
): void {
  if ((attributes.bip32 || attributes.slip10) && !curveSupportsDerivation(algorithm, curveOid)) {
    throw new TsbError(
      'DERIVATION_NOT_SUPPORTED',
      'attributes.bip32/slip10: BIP32/SLIP-10 derivation needs an EC key on secp256k1 or secp256r1, or an Ed25519 key',
    );
  }
}

function optionalField(
  value: string | null | undefined,
  field: string,
  kind: 'KEY_INVALID_ENCODING' | 'CERTIFICATE_INVALID_ENCODING',
) {
  return value === null || value === undefined || value === ''
    ? undefined
    : decodeKeyField(value, field, kind);
}

function resolveAddressFormat(
  requested: { format: string } | null | undefined,
  material: KeyMaterial,
  hasPolicy: boolean,
): AddressFormat | null {
  if (!requested) return null;
  if (!hasPolicy) {
    throw new TsbError(
      'ADDRESS_ON_NON_SKA_KEY',
      'addressFormat is only available for keys with an SKA policy',
    );
  }
  const format = requested.format as AddressFormat;
  if (!ADDRESS_FORMATS.includes(format)) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `addressFormat.format must be one of ${ADDRESS_FORMATS.join(', ')}`,
    );
  }
  if (!addressFormatFits(format, material.algorithm, material.curveOid)) {
    throw new TsbError(
      'INVALID_KEY_TYPE',
      `addressFormat ${format} does not fit a ${material.algorithm} key on this curve`,
    );
  }
  return format;
}

function derivedAttributesOf(key: Key, attributes: KeyAttributes): KeyAttributesJson['derivedAttributes'] {
  if (key.derivationType && key.derivationValue) {
    return { derivationType: key.derivationType, derivationValue: key.derivationValue };
  }
  const type = derivationTypeOf(key.algorithm, attributes);
  if (!type || !key.chainCode) return null;
  return { derivationType: type, derivationValue: Buffer.from(key.chainCode).toString('hex').toUpperCase() };
}

/** The policy as the TSB shows it: the stored rules plus the live `keyStatus`, without our derived fields. */
function wirePolicy(policy: Prisma.JsonValue, blocked: boolean): SkaPolicy {
  return { ...toPolicyJson(policy as unknown as NormalizedPolicy), keyStatus: { blocked } };
}
