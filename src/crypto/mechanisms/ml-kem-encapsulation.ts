/**
 * ML-KEM encapsulation and decapsulation: node:crypto where the key has a KeyObject (pq-node-keys.ts),
 * noble otherwise. Both take well under a millisecond, so they run in place.
 */
import * as nodeCrypto from 'node:crypto';
import type { MlKemAlgorithm } from '../algorithms.js';
import { ML_KEM } from './ml-kem.js';
import { nodePublicKey } from './pq-node-keys.js';

export interface Encapsulation {
  cipherText: Uint8Array;
  sharedSecret: Uint8Array;
}

/** Encapsulates to a raw public key (its KeyObject when the caller has one). */
export function mlKemEncapsulate(
  algorithm: MlKemAlgorithm,
  publicKey: Uint8Array,
  node?: nodeCrypto.KeyObject | null,
): Encapsulation {
  const key = node ?? nodePublicKey(algorithm, publicKey);
  if (!key) return ML_KEM[algorithm].encapsulate(publicKey);
  const { ciphertext, sharedKey } = nodeCrypto.encapsulate(key);
  return { cipherText: ciphertext, sharedSecret: sharedKey };
}

/** The shared secret of a ciphertext of exactly the parameter set's length. */
export function mlKemDecapsulate(
  algorithm: MlKemAlgorithm,
  cipherText: Uint8Array,
  secretKey: Uint8Array,
  node?: nodeCrypto.KeyObject | null,
): Uint8Array {
  if (!node) return ML_KEM[algorithm].decapsulate(cipherText, secretKey);
  return nodeCrypto.decapsulate(node, cipherText);
}
