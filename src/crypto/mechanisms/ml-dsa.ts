/**
 * ML-DSA (FIPS 204) keys with noble. Encodings per RFC 9881:
 * - SPKI: AlgorithmIdentifier { id-ml-dsa-44|65|87 } without parameters, BIT STRING = raw public key.
 * - PKCS#8: privateKey = `ML-DSA-PrivateKey ::= CHOICE { seed [0] IMPLICIT OCTET STRING (32),
 *   expandedKey OCTET STRING, both SEQUENCE {...} }`. We store the seed form; imports accept all three
 *   (checking seed and expanded key agree), and the raw seed / expanded key of pre-RFC implementations.
 */
import { shake256 } from '@noble/hashes/sha3.js';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import type { MlDsaAlgorithm } from '../algorithms.js';
import { fail } from './key-material.js';
import { seededLatticeMechanism } from './seeded-lattice-keys.js';

export const ML_DSA = { 'ML-DSA-44': ml_dsa44, 'ML-DSA-65': ml_dsa65, 'ML-DSA-87': ml_dsa87 } as const;
export const ML_DSA_SEED_LENGTH = 32;

export const mlDsa = seededLatticeMechanism<MlDsaAlgorithm>({
  implementations: ML_DSA,
  seedLength: ML_DSA_SEED_LENGTH,
  publicKeyOfExpanded(algorithm, secretKey) {
    const publicKey = ML_DSA[algorithm].getPublicKey(secretKey);
    // sk = rho(32) || K(32) || tr(64) || ...; tr must be H(pk) (FIPS 204 Algorithm 6)
    const tr = shake256(publicKey, { dkLen: 64 });
    if (!Buffer.from(tr).equals(secretKey.subarray(64, 128))) {
      throw fail('PARSING_KEY', `the ${algorithm} expanded private key is inconsistent`);
    }
    return publicKey;
  },
});
