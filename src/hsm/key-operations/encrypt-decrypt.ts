import { createPublicKey } from 'node:crypto';
import { isSymmetric, normalizeAlgorithm } from '../../crypto/algorithms.js';
import {
  type CipherAlgorithm,
  cipherAlgorithmOf,
  decryptOffThread,
  type EncryptResult,
  encrypt,
} from '../../crypto/ciphers/ciphers.js';
import { eciesEncrypt } from '../../crypto/ciphers/ecies.js';
import { splitKeyName } from '../../crypto/derivation/key-derivation.js';
import { TsbError } from '../../errors.js';
import type { Key, Partition } from '../../generated/prisma/client.js';
import type { KeyAttributes } from '../../keystore/key-attributes.js';
import type { KeyStore } from '../../keystore/keys/key-store.js';
import type { ApprovalGate, Authorization } from '../approval-gate.js';
import { authorizeKeyUse } from '../key-usage.js';
import type {
  DecryptInput,
  EncryptInput,
  EncryptResponse,
  FileEncryptInput,
} from './key-operations.types.js';
import type { KeyResolver } from './key-resolver.js';
import { base64OrNull, optionalBinary, payloadOf, refuseDerivationFor } from './operation-inputs.js';
import type { OperationUses } from './operation-uses.js';

/** Encrypt (secret keys, RSA public keys) and decrypt with stored keys. */
export class EncryptDecryptOperations {
  constructor(
    private readonly keys: KeyStore,
    private readonly resolver: KeyResolver,
    private readonly gate: ApprovalGate,
    private readonly uses: OperationUses,
  ) {}

  async encrypt(partition: Partition, input: EncryptInput): Promise<EncryptResponse> {
    const startedAt = performance.now();
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
    await this.uses.used(key, 'encrypt', { startedAt });
    return {
      encryptedPayload: result.encryptedPayload.toString('base64'),
      encryptedPayloadWithoutMessageAuthenticationCode: base64OrNull(
        result.encryptedPayloadWithoutMessageAuthenticationCode,
      ),
      initializationVector: base64OrNull(result.initializationVector),
      messageAuthenticationCode: base64OrNull(result.messageAuthenticationCode),
    };
  }

  /**
   * ECIES encryption of a file to an EC key (`/v1/fileEncrypt`; src/crypto/ciphers/ecies.ts): only the
   * public half is used, but the TSB asks for the key's `derive` attribute (key agreement), and so does OpenTSB.
   */
  async fileEncrypt(partition: Partition, input: FileEncryptInput, file: Buffer): Promise<Buffer> {
    const startedAt = performance.now();
    const { label, path } = splitKeyName(input.encryptKeyName);
    refuseDerivationFor(path, 'file encryption');
    const key = await this.keys.unlock(partition, label, input.keyPassword, { cached: true });
    if (key.algorithm !== 'EC' || !key.publicKey) {
      throw new TsbError(
        'ALGORITHM_NOT_SUPPORTED_BY_KEY',
        `file encryption (ECIES) needs an EC key, not ${key.algorithm}`,
      );
    }
    authorizeKeyUse(partition, key, 'derive', { secretKey: false });
    const publicKey = createPublicKey({ key: Buffer.from(key.publicKey), format: 'der', type: 'spki' });
    const cryptogram = eciesEncrypt(publicKey, file);
    await this.uses.used(key, 'encrypt', { startedAt });
    return cryptogram;
  }

  async decrypt(
    partition: Partition,
    input: DecryptInput,
    authorization: Authorization | null,
  ): Promise<Buffer> {
    const startedAt = performance.now();
    const encryptedPayload = payloadOf(input.encryptedPayload, 'decryptRequest.encryptedPayload');
    const { key, ready, path, spend } = await this.resolver.ready(
      partition,
      input.decryptKeyName,
      input.keyPassword,
      'decrypt',
      { operation: 'DECRYPT', payload: encryptedPayload, parameters: { ...input }, authorization },
    );
    refuseDerivationFor(path, 'decryption');
    // before any approval is spent: an approved request (/v1/decrypt) runs through here too
    refuseRawRsaWithoutSign(key, cipherAlgorithmOf(input.cipherAlgorithm));
    await this.gate.spend(spend, { countUse: true });
    const plaintext = await decryptOffThread(ready, {
      cipherAlgorithm: input.cipherAlgorithm,
      encryptedPayload,
      initializationVector: optionalBinary(input.initializationVector, 'decryptRequest.initializationVector'),
      tagLength: input.tagLength ?? null,
      additionalAuthenticationData: optionalBinary(
        input.additionalAuthenticationData,
        'decryptRequest.additionalAuthenticationData',
      ),
    });
    await this.uses.used(key, 'decrypt', { startedAt, authorization, approvalsSpent: spend !== null });
    return plaintext;
  }

  /** Checks a decrypt request's cipher name and payload against the key, without decrypting. */
  checkDecryptRequest(key: Key, input: DecryptInput): void {
    refuseRawRsaWithoutSign(key, cipherAlgorithmOf(input.cipherAlgorithm));
    payloadOf(input.encryptedPayload, 'decryptRequest.encryptedPayload');
  }
}

/**
 * `RSA_NO_PADDING` decryption is the bare private-key operation (c^d mod n), which is also what an RSA signature
 * is: "decrypting" an EMSA-PKCS1-v1_5 or EMSA-PSS encoded block gives a valid signature. So it is allowed only on
 * an RSA key that may sign as well; on a decrypt-only key it is 614, or that key would sign. The padded ciphers
 * give nothing else back: OAEP fails alike for every bad block, and PKCS#1 v1.5 rejects implicitly (rsaDecrypt),
 * so neither answers whether a chosen block was validly padded (the oracle that would sign after all).
 */
function refuseRawRsaWithoutSign(key: Key, cipher: CipherAlgorithm): void {
  if (cipher !== 'RSA_NO_PADDING') return;
  if (normalizeAlgorithm(key.algorithm) !== 'RSA') return;
  const attributes = key.attributes as unknown as KeyAttributes;
  if (attributes.sign) return;
  throw new TsbError(
    'OPERATION_FORBIDDEN_FOR_KEY',
    `key "${key.label}" does not allow RSA_NO_PADDING decryption: raw RSA decryption is the private-key ` +
      'operation RSA signatures are made with, so it needs the sign attribute as well as decrypt (sign is false)',
  );
}
