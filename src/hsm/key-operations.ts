import { createPublicKey } from 'node:crypto';
import type { AddressFormat } from '../crypto/addresses/address-formats.js';
import { keyAddress } from '../crypto/addresses/blockchain-addresses.js';
import { isSymmetric, normalizeAlgorithm } from '../crypto/algorithms.js';
import { cipherAlgorithmOf, decrypt, type EncryptResult, encrypt } from '../crypto/ciphers/ciphers.js';
import { derivationTypeOf, formatDerivationPath, splitKeyName } from '../crypto/derivation/key-derivation.js';
import { hmac, verifyHmac } from '../crypto/macs/hmac-sha256.js';
import { checkSignRequest, sign, verify } from '../crypto/signatures/signatures.js';
import { unwrapKey, wrapKey } from '../crypto/wrapping/key-wrapping.js';
import { TsbError } from '../errors.js';
import type { Key, Partition } from '../generated/prisma/client.js';
import { type NormalizedPolicy, toPolicyJson } from '../ska/policy-validate.js';
import type { ApprovalGate, Authorization } from './approval-gate.js';
import type { KeyAttributes, KeyAttributesInput } from './key-attributes.js';
import type {
  DecryptInput,
  DeriveInput,
  EncryptInput,
  EncryptResponse,
  KeyOperationEvent,
  KeyOperationName,
  SignInput,
  UnwrapInput,
  VerifyInput,
  WrapInput,
} from './key-operations.types.js';
import type { PasswordInput } from './key-password.js';
import { type GatedUse, KeyResolver } from './key-resolver.js';
import { authorizeKeyUse, type KeyUse } from './key-usage.js';
import { assertWritable } from './keys/key-input-rules.js';
import type { KeyStore } from './keys/key-store.js';
import type { SignedKeyAttributes } from './keys/key-store.types.js';
import {
  base64OrNull,
  binary,
  optionalBinary,
  payloadOf,
  refuseDerivationFor,
  refuseKeyObject,
  signPayloadOf,
} from './operation-inputs.js';
import type { UseCounter } from './use-counter.js';

/**
 * The synchronous key operations of the TSB (reference §2.3) on top of the key store: resolve the key
 * (key-resolver.ts: a derivation path suffix, attributes, block status, SKA ruleUse and partition flags),
 * run the mechanism, and count the use.
 */
export class KeyOperations {
  private readonly observers = new Set<(event: KeyOperationEvent) => void>();
  private readonly resolver: KeyResolver;

  constructor(
    private readonly keys: KeyStore,
    private readonly useCounter: UseCounter,
    private readonly gate: ApprovalGate,
  ) {
    this.resolver = new KeyResolver(keys, gate);
  }

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
    const payload = signPayloadOf(input.payload, input.payloadType, 'signRequest.payload');
    optionalBinary(input.metaData, 'signRequest.metaData');
    optionalBinary(input.metaDataSignature, 'signRequest.metaDataSignature');
    const { key, ready, spend } = await this.resolver.ready(
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
    // null is absent: a client may send the other request as null
    if ((signature == null) === (mac == null)) {
      throw new TsbError(
        'INPUT_VALIDATION_FAILED',
        'send exactly one of verifySignatureRequest and verifyHmacRequest',
      );
    }
    if (mac) {
      const { key, ready } = await this.resolver.ready(partition, mac.keyName, mac.keyPassword, 'verify');
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
    const payload = signPayloadOf(request.payload, request.payloadType, 'verifySignatureRequest.payload');
    const signatureBytes = binary(request.signature, 'verifySignatureRequest.signature');
    const { key, publicKey } = await this.resolver.public(
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
    const { key, ready } = await this.resolver.ready(partition, input.keyName, input.keyPassword, 'sign', {
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
      const { ready } = await this.resolver.ready(partition, label, input.keyPassword, 'encrypt');
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
    const { key, ready, path, spend } = await this.resolver.ready(
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
    const wrappingKey = await this.resolver.wrapping(partition, wrapping.label, input.wrapKeyPassword);
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
    const { key, ready, path, spend } = await this.resolver.ready(
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
    const { key, ready, spend } = await this.resolver.ready(
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
      payload: signPayloadOf(input.payload, input.payloadType, 'signRequest.payload'),
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
    const { key, derived } = await this.resolver.derived(partition, label, input.password, path);
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
      spki = (await this.resolver.derived(partition, label, password, path)).derived.material.publicKey;
    }
    if (!spki) throw new TsbError('INVALID_KEY_TYPE', `key "${label}" has no public key`);
    return keyAddress(key.addressFormat as AddressFormat, spki);
  }
}
