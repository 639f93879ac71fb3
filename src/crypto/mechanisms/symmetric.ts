/**
 * Secret keys of the block and stream ciphers: AES (128/192/256), ChaCha20 (256), Camellia
 * (128/192/256) and TDEA (128 = two-key K1‖K2, 192 = three-key K1‖K2‖K3; sizes include the DES
 * parity bits). Material is the raw key; there is no public key; the algorithm OID is the family's (SYMMETRIC_OIDS).
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import {
  algorithmOidOf,
  describeKeySizeRule,
  keySizeAllowed,
  keySizeRule,
  type SymmetricAlgorithm,
} from '../algorithms.js';
import { fail, type KeyMaterial, type ReadyKey } from './key-material.js';

export interface SecretMechanism {
  generate(algorithm: SymmetricAlgorithm, keySize: number): Promise<KeyMaterial>;
  fromSecret(algorithm: SymmetricAlgorithm, secret: Buffer): KeyMaterial;
  load(material: KeyMaterial): ReadyKey;
}

export function secretMaterial(algorithm: SymmetricAlgorithm, secret: Buffer): KeyMaterial {
  return {
    algorithm,
    algorithmOid: algorithmOidOf(algorithm, null),
    curveOid: null,
    keySize: secret.length * 8,
    publicKey: null,
    secret,
  };
}

/** An imported secret key must have one of the sizes the algorithm offers. */
export function checkSecretLength(algorithm: SymmetricAlgorithm, secret: Buffer): void {
  if (!keySizeAllowed(algorithm, secret.length * 8)) {
    throw fail(
      'INPUT_KEYSIZE',
      `a ${algorithm} secret key of ${secret.length * 8} bits is not supported; allowed: ${describeKeySizeRule(keySizeRule(algorithm))} bits`,
    );
  }
}

export function loadSecret(material: KeyMaterial): ReadyKey {
  if (!material.secret) throw fail('HSM_INTEGRITY', `the ${material.algorithm} key has no stored secret`);
  if (!keySizeAllowed(material.algorithm, material.secret.length * 8)) {
    throw fail('HSM_INTEGRITY', `the stored ${material.algorithm} key has an invalid length`);
  }
  return {
    kind: 'secret',
    algorithm: material.algorithm as SymmetricAlgorithm,
    key: createSecretKey(Buffer.from(material.secret)),
  };
}

/** Sets the odd parity bit (the least significant bit) of every DES key byte. */
export function setDesParity(key: Buffer): Buffer {
  for (let i = 0; i < key.length; i++) {
    const high = key[i]! & 0xfe;
    let ones = 0;
    for (let bit = 1; bit < 0x100; bit <<= 1) if (high & bit) ones++;
    key[i] = high | (ones % 2 === 0 ? 1 : 0);
  }
  return key;
}

const desKeysEqual = (a: Buffer, b: Buffer) => a.every((byte, i) => (byte & 0xfe) === (b[i]! & 0xfe));

/** K1 = K2 (or K2 = K3) collapses TDEA to single DES. */
function tdeaDegenerate(key: Buffer): boolean {
  const k1 = key.subarray(0, 8);
  const k2 = key.subarray(8, 16);
  const k3 = key.length === 24 ? key.subarray(16, 24) : k1;
  return desKeysEqual(k1, k2) || desKeysEqual(k2, k3);
}

export const symmetric: SecretMechanism = {
  async generate(algorithm, keySize) {
    for (;;) {
      const secret = randomBytes(keySize / 8);
      if (algorithm !== 'TDEA') return secretMaterial(algorithm, secret);
      setDesParity(secret);
      if (!tdeaDegenerate(secret)) return secretMaterial(algorithm, secret);
    }
  },

  fromSecret(algorithm, secret) {
    checkSecretLength(algorithm, secret);
    if (algorithm === 'TDEA' && tdeaDegenerate(secret)) {
      throw fail('INPUT_VALIDATION_FAILED', 'the TDEA key has equal DES subkeys (it would be single DES)');
    }
    return secretMaterial(algorithm, Buffer.from(secret));
  },

  load: loadSecret,
};
