import type { AddressFormat } from '../../crypto/addresses/address-formats.js';
import { keyAddress } from '../../crypto/addresses/blockchain-addresses.js';
import {
  derivationTypeOf,
  formatDerivationPath,
  splitKeyName,
} from '../../crypto/derivation/key-derivation.js';
import { TsbError } from '../../errors.js';
import type { Partition } from '../../generated/prisma/client.js';
import type { KeyAttributes, KeyAttributesInput } from '../../keystore/key-attributes.js';
import type { PasswordInput } from '../../keystore/key-password.js';
import type { KeyStore } from '../../keystore/keys/key-store.js';
import { toPolicyJson } from '../../ska/policy-json.js';
import { isEmptyRule, type NormalizedPolicy, RULE_NAMES } from '../../ska/policy-normalized.js';
import type { DeriveInput } from './key-operations.types.js';
import type { KeyResolver } from './key-resolver.js';
import type { OperationUses } from './operation-uses.js';

/** Derive a child key (BIP32/SLIP-10) into a new stored key, and the blockchain address of a key or child. */
export class DeriveAddressOperations {
  constructor(
    private readonly keys: KeyStore,
    private readonly resolver: KeyResolver,
    private readonly uses: OperationUses,
  ) {}

  /** Derives the child named by `label/path` and stores it as a new key (`POST /v1/derivedKey`). */
  async derive(
    partition: Partition,
    input: DeriveInput,
  ): Promise<{ label: string; derivationType: string; derivationValue: string; path: string }> {
    const startedAt = performance.now();
    const { label, path } = splitKeyName(input.label);
    if (!path || path.length === 0) {
      throw new TsbError(
        'INPUT_VALIDATION_FAILED',
        "label must name the parent key with a derivation path, e.g. \"wallet/44'/0'/0'\"",
      );
    }
    const { key, derived } = await this.resolver.derived(partition, label, input.password, path);
    const policy = key.policy as unknown as NormalizedPolicy | null;
    if (policy !== null && RULE_NAMES.some((name) => !isEmptyRule(policy[name]))) {
      // a stored child would sign for the parent's addresses under a copy of its rules, out of reach of a later
      // block or policy change of the parent; the child's name as a path keeps every use under the parent's
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        `key "${label}" has SKA approval rules: a key derived from it cannot be stored as a key of its own; name it "${label}/<path>" to use it under those rules`,
      );
    }
    const parentAttributes = key.attributes as unknown as KeyAttributes;
    if (input.attributes) assertNoWeakerThanParent(label, parentAttributes, input.attributes);
    const attributes: KeyAttributesInput = input.attributes ?? {
      decrypt: parentAttributes.decrypt,
      sign: parentAttributes.sign,
      unwrap: parentAttributes.unwrap,
      derive: parentAttributes.derive,
      bip32: parentAttributes.bip32,
      slip10: parentAttributes.slip10,
      modifiable: parentAttributes.modifiable,
      destroyable: parentAttributes.destroyable,
      sensitive: parentAttributes.sensitive,
      extractable: parentAttributes.extractable,
    };
    // the label the reference's table gives for the parent's bip32/slip10 flags, as the parent shows it
    const derivationType = derivationTypeOf(key.algorithm, parentAttributes) ?? 'SLIP-10';
    const stored = await this.keys.storeNew(partition, {
      label: input.newLabel,
      material: derived.material,
      attributes,
      policy: policy === null ? null : { ...toPolicyJson(policy), keyStatus: { blocked: key.blocked } },
      password: input.newPassword,
      chainCode: derived.chainCode,
      derivation: { type: derivationType, value: derived.derivationValue },
    });
    await this.uses.used(key, 'derive', { startedAt });
    return {
      label: stored.json.label,
      derivationType,
      derivationValue: derived.derivationValue,
      path: formatDerivationPath(path),
    };
  }

  /** The address of a key created with an addressFormat (`POST /v1/key/address`), also for a derived child. */
  async address(partition: Partition, keyName: string, password?: PasswordInput): Promise<string> {
    const { label, path } = splitKeyName(keyName);
    const key = await this.keys.unlock(partition, label, password);
    if (!key.addressFormat) {
      throw new TsbError('ADDRESS_ON_NON_SKA_KEY', `key "${label}" was not created with an addressFormat`);
    }
    let spki: Buffer | null = key.publicKey ? Buffer.from(key.publicKey) : null;
    if (path && path.length > 0) {
      spki = (await this.resolver.derived(partition, label, password, path)).derived.material.publicKey;
    }
    if (!spki) throw new TsbError('INVALID_KEY_TYPE', `key "${label}" has no public key`);
    return keyAddress(key.addressFormat as AddressFormat, spki);
  }
}

/**
 * A child holds what its parent holds: with the parent's chain code (public in `derivedAttributes`) an
 * unhardened child's private key gives the parent's, and a hardened child's gives its whole subtree. So a
 * child may be no more extractable, and no less sensitive, than its parent.
 */
function assertNoWeakerThanParent(
  parentLabel: string,
  parent: KeyAttributes,
  requested: KeyAttributesInput,
): void {
  if (requested.extractable === true && !parent.extractable) {
    throw new TsbError(
      'KEY_ATTRIBUTES_INVALID',
      `attributes.extractable: key "${parentLabel}" is not extractable, so no key derived from it can be`,
    );
  }
  if (requested.sensitive === false && parent.sensitive) {
    throw new TsbError(
      'KEY_ATTRIBUTES_INVALID',
      `attributes.sensitive: key "${parentLabel}" is sensitive, so every key derived from it must be`,
    );
  }
}
