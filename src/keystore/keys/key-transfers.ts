import type { Clock } from '../../clock.js';
import { capabilitiesOf, normalizeAlgorithm } from '../../crypto/algorithms.js';
import { masterFromSeed } from '../../crypto/derivation/key-derivation.js';
import {
  exportPrivateKey,
  importKeyOffThread,
  type KeyMaterial,
} from '../../crypto/mechanisms/key-mechanisms.js';
import { TsbError } from '../../errors.js';
import type { Key, Partition } from '../../generated/prisma/client.js';
import { decodeBase64, toBase64 } from '../../lib/encoding.js';
import { type KeyAttributes, resolveKeyAttributes } from '../key-attributes.js';
import { canonicalLabel } from '../key-label.js';
import { normalizePassword, type PasswordInput } from '../key-password.js';
import type { KeyRepository } from './key.repository.js';
import type { KeyChanges } from './key-changes.js';
import {
  assertDerivationFits,
  assertImportAllowed,
  importedPrivateAttributes,
  optionalField,
  resolveAddressFormat,
  resolveKeyPolicy,
} from './key-input-rules.js';
import type { ExportedKey, ImportKeyInput, SeedImportInput, SignedKeyAttributes } from './key-store.types.js';
import { assertModifiable, assertPublicReimport, publicReimport } from './public-reimport.js';
import type { KeyToStore, SealedKeyWriter } from './sealed-key-writer.js';
import { refuseStatefulCopy } from './stateful-indices.js';

/** What the transfers need of the key store: its statement, its password check and its sealed material. */
export interface KeyStoreAccess {
  statement(partition: Partition, key: Key): Promise<SignedKeyAttributes>;
  unlock(partition: Partition, label: string, password?: PasswordInput): Promise<Key>;
  materialOf(partition: Partition, key: Key): KeyMaterial;
}

/**
 * Keys in and out in plain: import of key material (a pair, a public key or certificate, a secret key)
 * or of a seed's master key, and export of an extractable, non-sensitive key without SKA policy.
 */
export class KeyTransfers {
  constructor(
    private readonly store: KeyStoreAccess,
    private readonly repository: KeyRepository,
    private readonly writer: SealedKeyWriter,
    private readonly changes: KeyChanges,
    private readonly clock: Clock,
  ) {}

  async importPlain(partition: Partition, input: ImportKeyInput): Promise<SignedKeyAttributes> {
    assertImportAllowed(partition);
    const label = canonicalLabel(input.label);
    const algorithm = normalizeAlgorithm(input.algorithm);
    const material = await importKeyOffThread({
      algorithm,
      curveOid: input.curveOid ?? null,
      privateKey: optionalField(input.privateKey, 'privateKey', 'KEY_INVALID_ENCODING'),
      publicKey: optionalField(input.publicKey, 'publicKey', 'KEY_INVALID_ENCODING'),
      secretKey: optionalField(input.secretKey, 'secretKey', 'KEY_INVALID_ENCODING'),
      certificate: optionalField(input.certificate, 'certificate', 'CERTIFICATE_INVALID_ENCODING'),
    });
    const certificate = material.certificate ?? null;
    const publicOnly = material.secret === null;
    const existing = await this.repository.findByLabel(partition.id, label);
    if (existing) {
      return this.reimportPublicPart(partition, existing, material, publicOnly, input.password);
    }
    const password = normalizePassword(input.password);
    const policy = publicOnly ? null : await resolveKeyPolicy(input.policy, this.clock);
    const attributes = resolveKeyAttributes(input.attributes ?? undefined, {
      capabilities: { algorithm, ...capabilitiesOf(algorithm) },
      hasPolicy: policy !== null,
      publicOnly,
    });
    assertDerivationFits(attributes, algorithm, material.curveOid);
    const addressFormat = resolveAddressFormat(input.addressFormat, material, policy !== null);
    return this.insertImported(partition, {
      label,
      externalId: input.id ?? null,
      material,
      attributes: publicOnly ? attributes : importedPrivateAttributes(attributes),
      policy,
      password,
      addressFormat,
      certificate,
    });
  }

  /**
   * The master key of an imported seed (BIP32 on secp256k1, SLIP-10 on P-256 and Ed25519): the
   * seed itself is not kept, only the key and, when the key may derive, its chain code.
   */
  async importSeed(partition: Partition, input: SeedImportInput): Promise<SignedKeyAttributes> {
    assertImportAllowed(partition);
    const label = canonicalLabel(input.label);
    const seed = decodeBase64(input.seed, 'seed');
    const master = masterFromSeed(input.curveOid, seed);
    seed.fill(0);
    const { material } = master;
    const policy = await resolveKeyPolicy(input.policy, this.clock);
    const attributes = resolveKeyAttributes(input.attributes, {
      capabilities: { algorithm: material.algorithm, ...capabilitiesOf(material.algorithm) },
      hasPolicy: policy !== null,
      publicOnly: false,
    });
    assertDerivationFits(attributes, material.algorithm, material.curveOid);
    await this.repository.assertLabelFree(partition.id, label);
    const addressFormat = resolveAddressFormat(input.addressFormat, material, policy !== null);
    return this.insertImported(partition, {
      label,
      externalId: input.id ?? null,
      material,
      attributes: importedPrivateAttributes(attributes),
      policy,
      password: normalizePassword(input.password),
      addressFormat,
      chainCode: attributes.bip32 || attributes.slip10 ? master.chainCode : null,
    });
  }

  async exportPlain(partition: Partition, label: string, password?: PasswordInput): Promise<ExportedKey> {
    const key = await this.store.unlock(partition, label, password);
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
    refuseStatefulCopy(key, 'exported');
    const exported = key.materialSealed
      ? exportPrivateKey(this.store.materialOf(partition, key))
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

  private async insertImported(
    partition: Partition,
    fields: Omit<KeyToStore, 'origin'>,
  ): Promise<SignedKeyAttributes> {
    const key = await this.writer.insert(partition, { ...fields, origin: 'imported' });
    return this.store.statement(partition, key);
  }

  /**
   * A public key or certificate imported under the label of an existing key replaces its public part
   * (a public key) or its certificate (a private key). Like any other use of the key it takes the key's
   * password (KEY_PASSWORD_MISMATCH), and the key must be modifiable (OPERATION_FORBIDDEN_FOR_KEY); the
   * write happens only if the key is still the version checked.
   */
  private async reimportPublicPart(
    partition: Partition,
    existing: Key,
    material: KeyMaterial,
    publicOnly: boolean,
    password: PasswordInput | undefined,
  ): Promise<SignedKeyAttributes> {
    assertPublicReimport(existing, publicOnly);
    const unlocked = await this.store.unlock(partition, existing.label, password);
    assertModifiable(unlocked);
    const key = await this.repository.replacePublicPart(unlocked, publicReimport(unlocked, material));
    if (!key) {
      throw new TsbError(
        'KEY_ALREADY_EXISTING',
        `key "${existing.label}" changed during the import; try again`,
      );
    }
    this.changes.forget(partition.id, key.label);
    return this.store.statement(partition, key);
  }
}
