/**
 * ML-KEM (FIPS 203) keys with noble. Encodings per RFC 9935:
 * - SPKI: AlgorithmIdentifier { id-alg-ml-kem-512|768|1024 } without parameters, BIT STRING = encapsulation key.
 * - PKCS#8: privateKey = `ML-KEM-PrivateKey ::= CHOICE { seed [0] IMPLICIT OCTET STRING (64) (d‖z),
 *   expandedKey OCTET STRING, both SEQUENCE {...} }`. We store the seed form; imports accept all three
 *   (checking seed and expanded key agree, and the hash check of FIPS 203 §7.3 on expanded keys).
 */
import { sha3_256 } from '@noble/hashes/sha3.js';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import type { MlKemAlgorithm } from '../algorithms.js';
import { fail } from './key-material.js';
import { seededLatticeMechanism } from './seeded-lattice-keys.js';

export const ML_KEM = {
  'ML-KEM-512': ml_kem512,
  'ML-KEM-768': ml_kem768,
  'ML-KEM-1024': ml_kem1024,
} as const;
export const ML_KEM_SEED_LENGTH = 64;

export const mlKem = seededLatticeMechanism<MlKemAlgorithm>({
  implementations: ML_KEM,
  seedLength: ML_KEM_SEED_LENGTH,
  publicKeyOfExpanded(algorithm, secretKey) {
    // dk = dk_PKE (384k) || ek (384k + 32) || H(ek) (32) || z (32)
    const publicLength = ML_KEM[algorithm].lengths.publicKey!;
    const ekStart = secretKey.length - 64 - publicLength;
    const publicKey = secretKey.subarray(ekStart, ekStart + publicLength);
    const hash = secretKey.subarray(secretKey.length - 64, secretKey.length - 32);
    if (!Buffer.from(sha3_256(publicKey)).equals(hash)) {
      throw fail('PARSING_KEY', `the ${algorithm} expanded private key fails its hash check`);
    }
    return publicKey;
  },
  checkPublicKey(algorithm, publicKey) {
    // FIPS 203 §7.2 modulus check: every coefficient must be reduced; noble re-encodes to compare
    try {
      ML_KEM[algorithm].encapsulate(publicKey);
    } catch {
      throw fail('PARSING_KEY', `the ${algorithm} public key fails the modulus check`);
    }
  },
});
