/**
 * ML-KEM (FIPS 203) keys with noble. Encodings per RFC 9935:
 * - SPKI: AlgorithmIdentifier { id-alg-ml-kem-512|768|1024 } without parameters, BIT STRING = encapsulation key.
 * - PKCS#8: privateKey = `ML-KEM-PrivateKey ::= CHOICE { seed [0] IMPLICIT OCTET STRING (64) (d‖z),
 *   expandedKey OCTET STRING, both SEQUENCE {...} }`. We store the seed form; imports accept all three
 *   (checking seed and expanded key agree, and the hash check of FIPS 203 §7.3 on expanded keys).
 */
import { randomBytes } from 'node:crypto';
import { sha3_256 } from '@noble/hashes/sha3.js';
import { ml_kem512, ml_kem768, ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { type KeyAlgorithm, type MlKemAlgorithm, PQ_PARAMS } from '../algorithms.js';
import { implicitPrimitive, octetString } from '../asn1.js';
import { type AsymmetricMechanism, fail, type KeyMaterial, storedMaterial } from './common.js';
import {
  checkEmbeddedPublicKey,
  noblePkcs8,
  nobleSpki,
  readPrivateKeyInfo,
  readPublicKey,
  readSeedChoice,
  readStoredPrivateKey,
} from './noble-keys.js';

export const ML_KEM = {
  'ML-KEM-512': ml_kem512,
  'ML-KEM-768': ml_kem768,
  'ML-KEM-1024': ml_kem1024,
} as const;
export const ML_KEM_SEED_LENGTH = 64;

const lengths = (algorithm: MlKemAlgorithm) => {
  const { publicKey, secretKey } = ML_KEM[algorithm].lengths;
  return { publicKey: publicKey!, secretKey: secretKey! };
};

interface Keys {
  seed: Uint8Array | null;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

function material(algorithm: MlKemAlgorithm, keys: Keys | null, publicKey: Uint8Array): KeyMaterial {
  const { oid, securityBits } = PQ_PARAMS[algorithm];
  const privateKey = keys
    ? keys.seed
      ? implicitPrimitive(0, keys.seed)
      : octetString(keys.secretKey)
    : null;
  return {
    algorithm,
    algorithmOid: oid,
    curveOid: null,
    keySize: securityBits,
    publicKey: nobleSpki(oid, publicKey),
    secret: privateKey ? noblePkcs8(oid, privateKey) : null,
  };
}

function keysOf(algorithm: MlKemAlgorithm, content: Buffer): Keys {
  const impl = ML_KEM[algorithm];
  const { seed, expanded } = readSeedChoice(
    content,
    ML_KEM_SEED_LENGTH,
    lengths(algorithm).secretKey,
    algorithm,
  );
  if (seed) {
    const keys = impl.keygen(seed);
    if (expanded && !Buffer.from(keys.secretKey).equals(expanded)) {
      throw fail('PARSING_KEY', `the ${algorithm} seed and expanded private key do not match`);
    }
    return { seed: Buffer.from(seed), secretKey: keys.secretKey, publicKey: keys.publicKey };
  }
  // dk = dk_PKE (384k) || ek (384k + 32) || H(ek) (32) || z (32)
  const secretKey = Buffer.from(expanded!);
  const publicLength = lengths(algorithm).publicKey;
  const ekStart = secretKey.length - 64 - publicLength;
  const publicKey = secretKey.subarray(ekStart, ekStart + publicLength);
  const hash = secretKey.subarray(secretKey.length - 64, secretKey.length - 32);
  if (!Buffer.from(sha3_256(publicKey)).equals(hash)) {
    throw fail('PARSING_KEY', `the ${algorithm} expanded private key fails its hash check`);
  }
  return { seed: null, secretKey, publicKey: Buffer.from(publicKey) };
}

const asMlKem = (algorithm: KeyAlgorithm) => algorithm as MlKemAlgorithm;

function stored(material: KeyMaterial): Keys {
  const algorithm = asMlKem(material.algorithm);
  const content = readStoredPrivateKey(algorithm, PQ_PARAMS[algorithm].oid, material);
  return storedMaterial(algorithm, () => keysOf(algorithm, content));
}

export const mlKem: AsymmetricMechanism = {
  async generate(alg) {
    const algorithm = asMlKem(alg);
    const seed = randomBytes(ML_KEM_SEED_LENGTH);
    const { secretKey, publicKey } = ML_KEM[algorithm].keygen(seed);
    return material(algorithm, { seed, secretKey, publicKey }, publicKey);
  },

  fromPrivate(input, spec) {
    const algorithm = asMlKem(spec.algorithm);
    const info = readPrivateKeyInfo(algorithm, PQ_PARAMS[algorithm].oid, input);
    const keys = keysOf(algorithm, info.privateKey);
    checkEmbeddedPublicKey(info, keys.publicKey);
    return material(algorithm, keys, keys.publicKey);
  },

  fromPublic(input, spec) {
    const algorithm = asMlKem(spec.algorithm);
    const publicKey = readPublicKey(algorithm, PQ_PARAMS[algorithm].oid, input, lengths(algorithm).publicKey);
    // FIPS 203 §7.2 modulus check: every coefficient must be reduced; noble re-encodes to compare
    try {
      ML_KEM[algorithm].encapsulate(publicKey);
    } catch {
      throw fail('PARSING_KEY', `the ${algorithm} public key fails the modulus check`);
    }
    return material(algorithm, null, publicKey);
  },

  publicKeyOf(material) {
    return nobleSpki(PQ_PARAMS[asMlKem(material.algorithm)].oid, stored(material).publicKey);
  },

  load(material) {
    const { secretKey, publicKey } = stored(material);
    return { kind: 'noble', algorithm: asMlKem(material.algorithm), secretKey, publicKey };
  },
};
