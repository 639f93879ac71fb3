/**
 * ML-DSA (FIPS 204) keys with noble. Encodings per RFC 9881:
 * - SPKI: AlgorithmIdentifier { id-ml-dsa-44|65|87 } without parameters, BIT STRING = raw public key.
 * - PKCS#8: privateKey = `ML-DSA-PrivateKey ::= CHOICE { seed [0] IMPLICIT OCTET STRING (32),
 *   expandedKey OCTET STRING, both SEQUENCE {...} }`. We store the seed form; imports accept all three
 *   (checking seed and expanded key agree), and the raw seed / expanded key of pre-RFC implementations.
 */
import { randomBytes } from 'node:crypto';
import { shake256 } from '@noble/hashes/sha3.js';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { type KeyAlgorithm, type MlDsaAlgorithm, PQ_PARAMS } from '../algorithms.js';
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

export const ML_DSA = { 'ML-DSA-44': ml_dsa44, 'ML-DSA-65': ml_dsa65, 'ML-DSA-87': ml_dsa87 } as const;
export const ML_DSA_SEED_LENGTH = 32;

const lengths = (algorithm: MlDsaAlgorithm) => {
  const { publicKey, secretKey } = ML_DSA[algorithm].lengths;
  return { publicKey: publicKey!, secretKey: secretKey! };
};

interface Keys {
  seed: Uint8Array | null;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

function material(algorithm: MlDsaAlgorithm, keys: Keys | null, publicKey: Uint8Array): KeyMaterial {
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

/** Keys from the private key CHOICE content; `strict` checks imported expanded keys for consistency. */
function keysOf(algorithm: MlDsaAlgorithm, content: Buffer): Keys {
  const impl = ML_DSA[algorithm];
  const { seed, expanded } = readSeedChoice(
    content,
    ML_DSA_SEED_LENGTH,
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
  const secretKey = Buffer.from(expanded!);
  const publicKey = impl.getPublicKey(secretKey);
  // sk = rho(32) || K(32) || tr(64) || ...; tr must be H(pk) (FIPS 204 Algorithm 6)
  const tr = shake256(publicKey, { dkLen: 64 });
  if (!Buffer.from(tr).equals(secretKey.subarray(64, 128))) {
    throw fail('PARSING_KEY', `the ${algorithm} expanded private key is inconsistent`);
  }
  return { seed: null, secretKey, publicKey };
}

const asMlDsa = (algorithm: KeyAlgorithm) => algorithm as MlDsaAlgorithm;

function stored(material: KeyMaterial): Keys {
  const algorithm = asMlDsa(material.algorithm);
  const content = readStoredPrivateKey(algorithm, PQ_PARAMS[algorithm].oid, material);
  return storedMaterial(algorithm, () => keysOf(algorithm, content));
}

export const mlDsa: AsymmetricMechanism = {
  async generate(alg) {
    const algorithm = asMlDsa(alg);
    const seed = randomBytes(ML_DSA_SEED_LENGTH);
    const { secretKey, publicKey } = ML_DSA[algorithm].keygen(seed);
    return material(algorithm, { seed, secretKey, publicKey }, publicKey);
  },

  fromPrivate(input, spec) {
    const algorithm = asMlDsa(spec.algorithm);
    const info = readPrivateKeyInfo(algorithm, PQ_PARAMS[algorithm].oid, input);
    const keys = keysOf(algorithm, info.privateKey);
    checkEmbeddedPublicKey(info, keys.publicKey);
    return material(algorithm, keys, keys.publicKey);
  },

  fromPublic(input, spec) {
    const algorithm = asMlDsa(spec.algorithm);
    const publicKey = readPublicKey(algorithm, PQ_PARAMS[algorithm].oid, input, lengths(algorithm).publicKey);
    return material(algorithm, null, publicKey);
  },

  publicKeyOf(material) {
    return nobleSpki(PQ_PARAMS[asMlDsa(material.algorithm)].oid, stored(material).publicKey);
  },

  load(material) {
    const { secretKey, publicKey } = stored(material);
    return { kind: 'noble', algorithm: asMlDsa(material.algorithm), secretKey, publicKey };
  },
};
