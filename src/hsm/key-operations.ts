import { createPublicKey } from 'node:crypto';
import type { AddressFormat } from '../crypto/addresses/address-formats.js';
import { keyAddress } from '../crypto/addresses/blockchain-addresses.js';
import { isSymmetric, normalizeAlgorithm } from '../crypto/algorithms.js';
import { cipherAlgorithmOf, decrypt, type EncryptResult, encrypt } from '../crypto/ciphers/ciphers.js';
import {
  type DerivationStep,
  type DerivedKey,
  derivationTypeOf,
  deriveFromMaterial,
  formatDerivationPath,
  splitKeyName,
} from '../crypto/derivation/key-derivation.js';
import { hmac, verifyHmac } from '../crypto/macs/hmac-sha256.js';
import {
  type KeyMaterial,
  loadPrivate,
  loadPublic,
  type ReadyKey,
  type ReadyPublicKey,
} from '../crypto/mechanisms/key-mechanisms.js';
import { checkSignRequest, publicOf, sign, verify } from '../crypto/signatures/signatures.js';
import { publicKeyInput, unwrapKey, type WrappingKey, wrapKey } from '../crypto/wrapping/key-wrapping.js';
import { TsbError } from '../errors.js';
import type { Key, Partition } from '../generated/prisma/client.js';
import { decodeBase64 } from '../lib/encoding.js';
import { payloadDigest, type SkaOperation } from '../ska/challenge.js';
import { type InnerRequest, parametersDigest } from '../ska/operation-parameters.js';
import { type NormalizedPolicy, toPolicyJson } from '../ska/policy-validate.js';
import type { ApprovalGate, ApprovalSpend, Authorization } from './approval-gate.js';
import type { KeyAttributes, KeyAttributesInput } from './key-attributes.js';
import type { PasswordInput } from './key-password.js';
import { authorizeKeyUse, type KeyUse, RULE_USE_USES } from './key-usage.js';
import { assertWritable } from './keys/key-input-rules.js';
import type { KeyStore } from './keys/key-store.js';
import type { SignedKeyAttributes } from './keys/key-store.types.js';
import type { UseCounter } from './use-counter.js';

/** The largest payload one operation takes, as on the HSM (reference §2.3: about 64 KB per request). */
export const MAX_PAYLOAD_BYTES = 65_536;

export interface SignInput {
  payload: string;
  payloadType?: string | null;
  signKeyName: string;
  signKeyObject?: unknown;
  keyPassword?: PasswordInput;
  metaData?: string | null;
  metaDataSignature?: string | null;
  signatureAlgorithm: string;
  signatureType?: string | null;
  context?: string | null;
}

export interface VerifyInput {
  verifySignatureRequest?: {
    signKeyName: string;
    signKeyObject?: unknown;
    masterKeyPassword?: PasswordInput;
    keyPassword?: PasswordInput;
    signatureAlgorithm: string;
    payload: string;
    payloadType?: string | null;
    signature: string;
    signatureType?: string | null;
    context?: string | null;
  };
  verifyHmacRequest?: { keyName: string; keyPassword?: PasswordInput; payload: string; signature: string };
}

export interface EncryptInput {
  payload: string;
  encryptKeyName: string;
  keyPassword?: PasswordInput;
  cipherAlgorithm: string;
  tagLength?: number | null;
  additionalAuthenticationData?: string | null;
}

export interface DecryptInput {
  encryptedPayload: string;
  decryptKeyName: string;
  keyPassword?: PasswordInput;
  cipherAlgorithm: string;
  initializationVector?: string | null;
  tagLength?: number | null;
  additionalAuthenticationData?: string | null;
}

export interface WrapInput {
  keyToBeWrapped: string;
  keyToBeWrappedPassword?: PasswordInput;
  wrapKeyName: string;
  wrapKeyPassword?: PasswordInput;
  wrapMethod: string;
}

export interface UnwrapInput {
  wrappedKey: string;
  label: string;
  unwrapKeyName: string;
  unwrapKeyPassword?: PasswordInput;
  wrapMethod: string;
  algorithm?: string | null;
  attributes: KeyAttributesInput;
  policy?: unknown;
}

export interface DeriveInput {
  label: string;
  newLabel: string;
  password?: PasswordInput;
  newPassword?: PasswordInput;
  attributes?: KeyAttributesInput | null;
}

export interface EncryptResponse {
  encryptedPayload: string;
  encryptedPayloadWithoutMessageAuthenticationCode: string | null;
  initializationVector: string | null;
  messageAuthenticationCode: string | null;
}

/** What the approval gate needs to check a use governed by the SKA `ruleUse`. */
export interface GatedUse {
  operation: SkaOperation;
  payload: Buffer;
  /** the request whose operation parameters the approvals must name (src/ska/operation-parameters.ts) */
  parameters: InnerRequest;
  authorization: Authorization | null;
}

interface ResolvedKey {
  key: Key;
  /** the key to operate with: the stored key, or the child derived along the name's path */
  ready: ReadyKey;
  path: DerivationStep[] | null;
  /** pre-signed approvals the gate accepted: spent (and the use counted) right before the operation runs */
  spend: ApprovalSpend | null;
}

/** The operations `KeyOperations.observe` reports, one event per completed operation. */
export type KeyOperationName =
  | 'sign'
  | 'verify'
  | 'hmac'
  | 'encrypt'
  | 'decrypt'
  | 'wrap'
  | 'unwrap'
  | 'derive';

/** A completed operation: what ran and the algorithm of the key it used (never the key's name or id). */
export interface KeyOperationEvent {
  operation: KeyOperationName;
  algorithm: string;
}

/**
 * The synchronous key operations of the TSB (reference §2.3) on top of the key store: resolve the key
 * (with a derivation path suffix), enforce attributes, block status, SKA ruleUse and partition flags,
 * run the mechanism, and count the use.
 */
export class KeyOperations {
  private readonly observers = new Set<(event: KeyOperationEvent) => void>();

  constructor(
    private readonly keys: KeyStore,
    private readonly useCounter: UseCounter,
    private readonly gate: ApprovalGate,
  ) {}

  /** Calls `observer` after every completed operation (metrics); answers the function that stops it. */
  observe(observer: (event: KeyOperationEvent) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * Counts a use of the key and waits until the count is committed, so no result leaves before its use is
   * durable (a failed write fails the operation with 503); inside `UseCounter.deferInto` (an HTTP request)
   * the count is handed to the caller, which commits it with the request's audit entry before answering. Not counted here: a workflow request (the
   * workflow counts that use in the statement that stores the request's result, so a run whose result is
   * never stored counts nothing) and a use whose pre-signed approvals were spent (`approvalsSpent`: counted
   * in the spending transaction). Observers hear every completed operation, workflow runs included.
   */
  private async used(
    key: Pick<Key, 'id' | 'algorithm'>,
    operation: KeyOperationName,
    authorization: Authorization | null = null,
    approvalsSpent = false,
  ): Promise<void> {
    if (authorization?.kind !== 'workflow' && !approvalsSpent) await this.useCounter.record(key.id);
    for (const observer of this.observers) observer({ operation, algorithm: key.algorithm });
  }

  async sign(partition: Partition, input: SignInput, authorization: Authorization | null): Promise<Buffer> {
    refuseKeyObject(input.signKeyObject);
    const payload = payloadOf(input.payload, 'signRequest.payload');
    optionalBinary(input.metaData, 'signRequest.metaData');
    optionalBinary(input.metaDataSignature, 'signRequest.metaDataSignature');
    const { key, ready, spend } = await this.resolve(
      partition,
      input.signKeyName,
      input.keyPassword,
      'sign',
      { operation: 'SIGN', payload, parameters: { ...input }, authorization },
    );
    // a request the key cannot sign is refused before its approvals are spent
    if (spend) this.checkSignRequest(key, input);
    await this.gate.spend(spend, { countUse: true });
    const signature = await sign(ready, {
      signatureAlgorithm: input.signatureAlgorithm,
      payload,
      signatureType: input.signatureType ?? null,
      payloadType: input.payloadType ?? null,
      context: optionalBinary(input.context, 'signRequest.context'),
    });
    await this.used(key, 'sign', authorization, spend !== null);
    return signature;
  }

  async verify(partition: Partition, input: VerifyInput): Promise<boolean> {
    const { verifySignatureRequest: signature, verifyHmacRequest: mac } = input;
    if ((signature === undefined) === (mac === undefined)) {
      throw new TsbError(
        'INPUT_VALIDATION_FAILED',
        'send exactly one of verifySignatureRequest and verifyHmacRequest',
      );
    }
    if (mac) {
      const { key, ready } = await this.resolve(partition, mac.keyName, mac.keyPassword, 'verify');
      const valid = verifyHmac(
        ready,
        payloadOf(mac.payload, 'verifyHmacRequest.payload'),
        binary(mac.signature, 'verifyHmacRequest.signature'),
      );
      await this.used(key, 'verify');
      return valid;
    }
    const request = signature!;
    refuseKeyObject(request.signKeyObject);
    const payload = payloadOf(request.payload, 'verifySignatureRequest.payload');
    const signatureBytes = binary(request.signature, 'verifySignatureRequest.signature');
    const { key, publicKey } = await this.resolvePublic(
      partition,
      request.signKeyName,
      request.keyPassword ?? request.masterKeyPassword,
      'verify',
    );
    const valid = await verify(publicKey, {
      signatureAlgorithm: request.signatureAlgorithm,
      payload,
      signature: signatureBytes,
      signatureType: request.signatureType ?? null,
      payloadType: request.payloadType ?? null,
      context: optionalBinary(request.context, 'verifySignatureRequest.context'),
    });
    await this.used(key, 'verify');
    return valid;
  }

  async hmac(
    partition: Partition,
    input: { keyName: string; keyPassword?: PasswordInput; payload: string },
  ): Promise<Buffer> {
    const payload = payloadOf(input.payload, 'hmacRequest.payload');
    const { key, ready } = await this.resolve(partition, input.keyName, input.keyPassword, 'sign', {
      operation: 'SIGN',
      payload,
      parameters: {},
      authorization: null,
    });
    const mac = hmac(ready, payload);
    await this.used(key, 'hmac');
    return mac;
  }

  async encrypt(partition: Partition, input: EncryptInput): Promise<EncryptResponse> {
    const payload = payloadOf(input.payload, 'encryptRequest.payload');
    const aad = optionalBinary(
      input.additionalAuthenticationData,
      'encryptRequest.additionalAuthenticationData',
    );
    const { label, path } = splitKeyName(input.encryptKeyName);
    refuseDerivationFor(path, 'encryption');
    const key = await this.keys.unlock(partition, label, input.keyPassword, { cached: true });
    let result: EncryptResult;
    if (isSymmetric(normalizeAlgorithm(key.algorithm))) {
      const { ready } = await this.resolve(partition, label, input.keyPassword, 'encrypt');
      result = encrypt(ready, {
        cipherAlgorithm: input.cipherAlgorithm,
        payload,
        tagLength: input.tagLength ?? null,
        additionalAuthenticationData: aad,
      });
    } else {
      authorizeKeyUse(partition, key, 'encrypt', { secretKey: false });
      if (key.algorithm !== 'RSA' || !key.publicKey) {
        throw new TsbError(
          'ALGORITHM_NOT_SUPPORTED_BY_KEY',
          `${key.algorithm} keys do not encrypt; use an RSA or a secret key`,
        );
      }
      const publicKey = createPublicKey({ key: Buffer.from(key.publicKey), format: 'der', type: 'spki' });
      result = encrypt(
        { kind: 'rsa-public', key: publicKey },
        {
          cipherAlgorithm: input.cipherAlgorithm,
          payload,
          tagLength: input.tagLength ?? null,
          additionalAuthenticationData: aad,
        },
      );
    }
    await this.used(key, 'encrypt');
    return {
      encryptedPayload: result.encryptedPayload.toString('base64'),
      encryptedPayloadWithoutMessageAuthenticationCode: base64OrNull(
        result.encryptedPayloadWithoutMessageAuthenticationCode,
      ),
      initializationVector: base64OrNull(result.initializationVector),
      messageAuthenticationCode: base64OrNull(result.messageAuthenticationCode),
    };
  }

  async decrypt(
    partition: Partition,
    input: DecryptInput,
    authorization: Authorization | null,
  ): Promise<Buffer> {
    const encryptedPayload = payloadOf(input.encryptedPayload, 'decryptRequest.encryptedPayload');
    const { key, ready, path, spend } = await this.resolve(
      partition,
      input.decryptKeyName,
      input.keyPassword,
      'decrypt',
      { operation: 'DECRYPT', payload: encryptedPayload, parameters: { ...input }, authorization },
    );
    refuseDerivationFor(path, 'decryption');
    if (spend) cipherAlgorithmOf(input.cipherAlgorithm);
    await this.gate.spend(spend, { countUse: true });
    const plaintext = decrypt(ready, {
      cipherAlgorithm: input.cipherAlgorithm,
      encryptedPayload,
      initializationVector: optionalBinary(input.initializationVector, 'decryptRequest.initializationVector'),
      tagLength: input.tagLength ?? null,
      additionalAuthenticationData: optionalBinary(
        input.additionalAuthenticationData,
        'decryptRequest.additionalAuthenticationData',
      ),
    });
    await this.used(key, 'decrypt', authorization, spend !== null);
    return plaintext;
  }

  async wrap(partition: Partition, input: WrapInput): Promise<Buffer> {
    if (!partition.allowKeyExport) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the partition security policy does not allow exporting keys, wrapped or plain',
      );
    }
    const target = splitKeyName(input.keyToBeWrapped);
    refuseDerivationFor(target.path, 'wrapping');
    const toWrap = await this.keys.unlock(partition, target.label, input.keyToBeWrappedPassword);
    const toWrapAttributes = toWrap.attributes as unknown as KeyAttributes;
    if (!toWrapAttributes.extractable || toWrap.policy !== null) {
      throw new TsbError(
        'OPERATION_FORBIDDEN_FOR_KEY',
        `key "${toWrap.label}" is not extractable and cannot be wrapped`,
      );
    }
    if (!toWrap.materialSealed) {
      throw new TsbError('OPERATION_FORBIDDEN_FOR_KEY', `key "${toWrap.label}" holds only a public key`);
    }
    const wrapping = splitKeyName(input.wrapKeyName);
    refuseDerivationFor(wrapping.path, 'wrapping');
    const wrappingKey = await this.wrappingKeyOf(partition, wrapping.label, input.wrapKeyPassword);
    const wrapped = wrapKey(wrappingKey.key, input.wrapMethod, this.keys.materialOf(partition, toWrap));
    await this.used(wrappingKey, 'wrap');
    return wrapped;
  }

  async unwrap(
    partition: Partition,
    input: UnwrapInput,
    authorization: Authorization | null,
    options: { requestId?: string } = {},
  ): Promise<SignedKeyAttributes> {
    // refused before any unwrapping: a read-only partition stores no new key
    assertWritable(partition);
    if (!partition.allowKeyImport) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the partition security policy does not allow importing keys, wrapped or plain',
      );
    }
    const wrapped = binary(input.wrappedKey, 'unwrapKeyRequest.wrappedKey');
    const { key, ready, path, spend } = await this.resolve(
      partition,
      input.unwrapKeyName,
      input.unwrapKeyPassword,
      'unwrap',
      { operation: 'UNWRAP', payload: wrapped, parameters: { ...input }, authorization },
    );
    refuseDerivationFor(path, 'unwrapping');
    const algorithm = input.algorithm ? normalizeAlgorithm(input.algorithm) : null;
    const material = unwrapKey(ready, input.wrapMethod, wrapped, { algorithm });
    // spent before the new key is stored: an approval stores at most one key
    await this.gate.spend(spend, { countUse: true });
    // counted once the new key is stored: a refused store (taken label, bad attributes) is no use
    const stored = await this.keys.storeNew(partition, {
      label: input.label,
      material,
      attributes: input.attributes,
      policy: input.policy,
      requestId: options.requestId ?? null,
    });
    await this.used(key, 'unwrap', authorization, spend !== null);
    return stored;
  }

  /**
   * Signs bytes the HSM core builds itself (a certificate, a CSR) with a stored key, under the same checks
   * as `sign`: password, partition flags, block status, the `sign` attribute, the approval gate for
   * `ruleUse` (the approvers' payload is `gated.payload`), and one counted use per call. `build` gets the
   * key and a signer, and may sign more than once (a CSR and the key's self-signed certificate).
   */
  async signBuilt<T>(
    partition: Partition,
    request: { keyName: string; keyPassword: PasswordInput; signatureAlgorithm: string; gated: GatedUse },
    build: (key: Key, signer: (data: Buffer) => Promise<Buffer>) => Promise<T>,
  ): Promise<T> {
    refuseDerivationFor(splitKeyName(request.keyName).path, 'certificates');
    const { key, ready, spend } = await this.resolve(
      partition,
      request.keyName,
      request.keyPassword,
      'sign',
      request.gated,
    );
    await this.gate.spend(spend, { countUse: true });
    const result = await build(key, (data) =>
      sign(ready, { signatureAlgorithm: request.signatureAlgorithm, payload: data }),
    );
    await this.used(key, 'sign', request.gated.authorization, spend !== null);
    return result;
  }

  /** Checks a sign request's algorithm, signature type and payload against the key, without signing. */
  checkSignRequest(key: Key, input: SignInput): void {
    refuseKeyObject(input.signKeyObject);
    checkSignRequest(normalizeAlgorithm(key.algorithm), key.curveOid, {
      signatureAlgorithm: input.signatureAlgorithm,
      payload: payloadOf(input.payload, 'signRequest.payload'),
      signatureType: input.signatureType ?? null,
      payloadType: input.payloadType ?? null,
      context: optionalBinary(input.context, 'signRequest.context'),
    });
  }

  /** Checks a decrypt request's cipher name and payload, without decrypting. */
  checkDecryptRequest(input: DecryptInput): void {
    cipherAlgorithmOf(input.cipherAlgorithm);
    payloadOf(input.encryptedPayload, 'decryptRequest.encryptedPayload');
  }

  /**
   * Checks, before an SKA request is stored, what can be checked without approvals: the key exists, the
   * password fits, the partition flags and the key's attributes and block status allow `use`.
   */
  async checkUse(partition: Partition, keyName: string, password: PasswordInput, use: KeyUse): Promise<Key> {
    const { label, path } = splitKeyName(keyName);
    const key = await this.keys.unlock(partition, label, password, { cached: true });
    if (path && path.length > 0) authorizeKeyUse(partition, key, 'derive', { secretKey: true });
    authorizeKeyUse(partition, key, use, { secretKey: true });
    if (use === 'unwrap' && !partition.allowKeyImport) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the partition security policy does not allow importing keys, wrapped or plain',
      );
    }
    return key;
  }

  /** Derives the child named by `label/path` and stores it as a new key (`POST /v1/derivedKey`). */
  async derive(
    partition: Partition,
    input: DeriveInput,
  ): Promise<{ label: string; derivationType: string; derivationValue: string; path: string }> {
    const { label, path } = splitKeyName(input.label);
    if (!path || path.length === 0) {
      throw new TsbError(
        'INPUT_VALIDATION_FAILED',
        "label must name the parent key with a derivation path, e.g. \"wallet/44'/0'/0'\"",
      );
    }
    const { key, derived } = await this.deriveFrom(partition, label, input.password, path);
    const parentAttributes = key.attributes as unknown as KeyAttributes;
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
      policy:
        key.policy === null
          ? null
          : {
              ...toPolicyJson(key.policy as unknown as NormalizedPolicy),
              keyStatus: { blocked: key.blocked },
            },
      password: input.newPassword,
      chainCode: derived.chainCode,
      derivation: { type: derivationType, value: derived.derivationValue },
    });
    await this.used(key, 'derive');
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
      spki = (await this.deriveFrom(partition, label, password, path)).derived.material.publicKey;
    }
    if (!spki) throw new TsbError('INVALID_KEY_TYPE', `key "${label}" has no public key`);
    return keyAddress(key.addressFormat as AddressFormat, spki);
  }

  private async resolve(
    partition: Partition,
    keyName: string,
    password: PasswordInput,
    use: KeyUse,
    gated?: GatedUse,
  ): Promise<ResolvedKey> {
    const { label, path } = splitKeyName(keyName);
    if (path && path.length > 0) {
      const { key, derived } = await this.deriveFrom(partition, label, password, path);
      const spend = this.authorize(partition, key, use, keyName, gated);
      return { key, ready: loadPrivate(derived.material), path, spend };
    }
    const { key, ready } = await this.keys.readyKey(partition, label, password);
    const spend = this.authorize(partition, key, use, keyName, gated);
    return { key, ready, path: null, spend };
  }

  /** Partition flags, block status and attributes, then (for uses under `ruleUse`) the approval gate. */
  private authorize(
    partition: Partition,
    key: Key,
    use: KeyUse,
    keyName: string,
    gated?: GatedUse,
  ): ApprovalSpend | null {
    authorizeKeyUse(partition, key, use, { secretKey: true });
    if (!RULE_USE_USES.has(use) || key.policy === null) return null;
    const operation = gated?.operation ?? 'SIGN';
    return this.gate.authorize(
      partition,
      key,
      {
        ruleName: 'ruleUse',
        operation,
        keyName,
        payloadDigest: payloadDigest(gated?.payload ?? Buffer.alloc(0)),
        parametersDigest: parametersDigest(operation, gated?.parameters ?? {}),
      },
      gated?.authorization ?? null,
    );
  }

  private async resolvePublic(
    partition: Partition,
    keyName: string,
    password: PasswordInput,
    use: KeyUse,
  ): Promise<{ key: Key; publicKey: ReadyPublicKey }> {
    const { label, path } = splitKeyName(keyName);
    if (path && path.length > 0) {
      const { key, derived } = await this.deriveFrom(partition, label, password, path);
      authorizeKeyUse(partition, key, use, { secretKey: false });
      return { key, publicKey: publicOf(loadPrivate(derived.material)) };
    }
    const key = await this.keys.unlock(partition, label, password, { cached: true });
    authorizeKeyUse(partition, key, use, { secretKey: false });
    if (!key.publicKey) {
      throw new TsbError('ALGORITHM_NOT_SUPPORTED_BY_KEY', `key "${label}" has no public key to verify with`);
    }
    return {
      key,
      publicKey: loadPublic(normalizeAlgorithm(key.algorithm), Buffer.from(key.publicKey), key.curveOid),
    };
  }

  private async deriveFrom(
    partition: Partition,
    label: string,
    password: PasswordInput,
    path: DerivationStep[],
  ): Promise<{ key: Key; derived: DerivedKey }> {
    const { key } = await this.keys.readyKey(partition, label, password);
    authorizeKeyUse(partition, key, 'derive', { secretKey: true });
    if (!key.chainCode) {
      throw new TsbError(
        'DERIVATION_NOT_SUPPORTED',
        `key "${label}" has no chain code: create it with derive and bip32 or slip10`,
      );
    }
    const material = this.keys.materialOf(partition, key);
    try {
      return { key, derived: deriveFromMaterial(material, Buffer.from(key.chainCode), path) };
    } finally {
      material.secret?.fill(0);
    }
  }

  private async wrappingKeyOf(
    partition: Partition,
    label: string,
    password: PasswordInput,
  ): Promise<{ id: string; algorithm: string; key: WrappingKey }> {
    const key = await this.keys.requireKey(partition, label);
    if (key.materialSealed && (isSymmetric(normalizeAlgorithm(key.algorithm)) || !key.publicKey)) {
      const { ready } = await this.resolve(partition, label, password, 'wrap');
      return { id: key.id, algorithm: key.algorithm, key: ready };
    }
    await this.keys.unlock(partition, label, password);
    authorizeKeyUse(partition, key, 'wrap', { secretKey: false });
    if (!key.publicKey) throw new TsbError('ALGORITHM_NOT_SUPPORTED_BY_KEY', `key "${label}" cannot wrap`);
    const material: KeyMaterial = {
      algorithm: normalizeAlgorithm(key.algorithm),
      algorithmOid: key.algorithmOid,
      curveOid: key.curveOid,
      keySize: key.keySize ?? 0,
      publicKey: Buffer.from(key.publicKey),
      secret: null,
    };
    return { id: key.id, algorithm: key.algorithm, key: publicKeyInput(material) };
  }
}

function payloadOf(value: string, field: string): Buffer {
  const bytes = decodeBase64(value, field, 'INVALID_PAYLOAD');
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new TsbError('INVALID_PAYLOAD', `${field} is larger than ${MAX_PAYLOAD_BYTES} bytes`);
  }
  return bytes;
}

const binary = (value: string, field: string): Buffer =>
  decodeBase64(value, field, 'INPUT_VALIDATION_FAILED');

function optionalBinary(value: string | null | undefined, field: string): Buffer | null {
  return value === null || value === undefined || value === '' ? null : binary(value, field);
}

const base64OrNull = (bytes: Buffer | null): string | null => (bytes ? bytes.toString('base64') : null);

function refuseKeyObject(keyObject: unknown): void {
  if (keyObject !== undefined && keyObject !== null) {
    throw new TsbError(
      'UNSUPPORTED_OPERATION',
      'signKeyObject (external key store) is not supported by OpenTSB',
    );
  }
}

function refuseDerivationFor(path: DerivationStep[] | null, what: string): void {
  if (path && path.length > 0) {
    throw new TsbError(
      'DERIVATION_NOT_SUPPORTED',
      `derived keys (a path after the label) are not available for ${what}`,
    );
  }
}
