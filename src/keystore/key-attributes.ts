import { TsbError } from '../errors.js';

/** Key attributes as a caller may send them on create, import and unwrap (reference §3.3). */
export interface KeyAttributesInput {
  encrypt?: boolean | null;
  decrypt?: boolean | null;
  verify?: boolean | null;
  sign?: boolean | null;
  wrap?: boolean | null;
  unwrap?: boolean | null;
  derive?: boolean | null;
  bip32?: boolean | null;
  slip10?: boolean | null;
  extractable?: boolean | null;
  modifiable?: boolean | null;
  destroyable?: boolean | null;
  sensitive?: boolean | null;
  copyable?: boolean | null;
}

/** Attributes as stored: every flag decided, plus the history flags an HSM keeps. */
export interface KeyAttributes {
  encrypt: boolean;
  decrypt: boolean;
  verify: boolean;
  sign: boolean;
  wrap: boolean;
  unwrap: boolean;
  derive: boolean;
  bip32: boolean;
  slip10: boolean;
  extractable: boolean;
  neverExtractable: boolean;
  sensitive: boolean;
  alwaysSensitive: boolean;
  modifiable: boolean;
  destroyable: boolean;
  copyable: boolean;
}

export interface AlgorithmCapabilities {
  algorithm: string;
  symmetric: boolean;
  canSign: boolean;
  canDecrypt: boolean;
  canUnwrap: boolean;
  canDerive: boolean;
}

export interface AttributeContext {
  capabilities: AlgorithmCapabilities;
  hasPolicy: boolean;
  /** true for a key that holds only a public key or certificate (verify-only) */
  publicOnly: boolean;
}

const invalid = (message: string) => new TsbError('KEY_ATTRIBUTES_INVALID', message);

/**
 * Decides every attribute from what the caller sent, with the defaults of §3.3, and refuses
 * combinations the key cannot honour, naming the attribute at fault.
 */
export function resolveKeyAttributes(
  input: KeyAttributesInput | undefined,
  context: AttributeContext,
): KeyAttributes {
  const given = input ?? {};
  // Public-key operations (encrypt, verify, wrap with the public half) default to what the key type
  // can do; on symmetric keys they follow their private counterparts (decrypt, sign, unwrap).
  const { capabilities, hasPolicy, publicOnly } = context;

  if (publicOnly) {
    return {
      encrypt: given.encrypt ?? !capabilities.symmetric,
      decrypt: false,
      verify: given.verify ?? true,
      sign: false,
      wrap: given.wrap ?? false,
      unwrap: false,
      derive: false,
      bip32: false,
      slip10: false,
      extractable: true,
      neverExtractable: false,
      sensitive: false,
      alwaysSensitive: false,
      modifiable: given.modifiable ?? true,
      destroyable: given.destroyable ?? true,
      copyable: given.copyable ?? false,
    };
  }

  for (const required of ['decrypt', 'sign', 'unwrap'] as const) {
    if (typeof given[required] !== 'boolean') {
      throw new TsbError('INPUT_VALIDATION_FAILED', `attributes.${required} is required (true or false)`);
    }
  }
  const attributes: KeyAttributes = {
    encrypt: given.encrypt ?? (capabilities.symmetric ? given.decrypt === true : capabilities.canDecrypt),
    decrypt: given.decrypt === true,
    verify: given.verify ?? (capabilities.symmetric ? given.sign === true : capabilities.canSign),
    sign: given.sign === true,
    wrap: given.wrap ?? (capabilities.symmetric ? given.unwrap === true : capabilities.canUnwrap),
    unwrap: given.unwrap === true,
    derive: given.derive ?? false,
    bip32: given.bip32 ?? false,
    slip10: given.slip10 ?? false,
    extractable: given.extractable ?? false,
    neverExtractable: false,
    sensitive: given.sensitive ?? true,
    alwaysSensitive: false,
    modifiable: given.modifiable ?? true,
    destroyable: given.destroyable ?? false,
    copyable: given.copyable ?? false,
  };
  attributes.neverExtractable = !attributes.extractable;
  attributes.alwaysSensitive = attributes.sensitive;

  // the TSB docs create an HMACSHA256 key with every operation false (Concepts/key/CreateKey.md), and the TSB
  // takes it; such a key is refused for every use (614) until it is replaced
  if (
    !attributes.decrypt &&
    !attributes.sign &&
    !attributes.unwrap &&
    capabilities.algorithm !== 'HMACSHA256'
  ) {
    throw invalid('at least one operation (decrypt, sign, unwrap) must be allowed (true)');
  }
  // Flags an algorithm cannot use (sign on an AES key, unwrap on an EC key as in reference sample 17) are
  // stored as given, as the HSM does; the operation itself is then refused (607). Only the rules of §3.3 apply.
  if ((attributes.bip32 || attributes.slip10) && !capabilities.canDerive) {
    throw invalid(
      `attributes.bip32/slip10: ${capabilities.algorithm} keys do not support BIP32/SLIP-10 derivation`,
    );
  }
  if ((attributes.bip32 || attributes.slip10) && !attributes.derive) {
    throw invalid('attributes.bip32 and attributes.slip10 need attributes.derive = true');
  }
  if (attributes.extractable && hasPolicy) {
    throw invalid('attributes.extractable: a key with an SKA policy can never be extractable');
  }
  return attributes;
}

/** The attribute object of the TSB `SignedKeyAttributes.json.attributes` response. */
export type PublicKeyAttributes = ReturnType<typeof publicAttributeView>;

export function publicAttributeView(attributes: KeyAttributes) {
  return {
    decrypt: attributes.decrypt,
    sign: attributes.sign,
    ekaSign: null,
    unwrap: attributes.unwrap,
    derive: attributes.derive,
    sensitive: attributes.sensitive,
    alwaysSensitive: attributes.alwaysSensitive,
    extractable: attributes.extractable,
    neverExtractable: attributes.neverExtractable,
    modifiable: attributes.modifiable,
    copyable: attributes.copyable,
    destroyable: attributes.destroyable,
  };
}
