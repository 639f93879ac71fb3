/**
 * SLH-DSA (FIPS 205) keys with noble, all twelve SHA2 / SHAKE parameter sets. Encodings per RFC 9909:
 * - SPKI: AlgorithmIdentifier { id-slh-dsa-* } without parameters, BIT STRING = PK.seed ‖ PK.root (2n bytes).
 * - PKCS#8: privateKey OCTET STRING = the raw secret key SK.seed ‖ SK.prf ‖ PK.seed ‖ PK.root (4n bytes);
 *   a nested OCTET STRING is also accepted on import.
 * The public key is the second half of the secret key. On import the root is not recomputed from
 * SK.seed (that is a full key generation, up to 1.5 s); a given public key or certificate must match it.
 *
 * Key generation of the "s" sets (and of SHAKE-256f) takes more than 50 ms, so it runs in the worker pool.
 */
import { randomBytes } from 'node:crypto';
import { type KeyAlgorithm, PQ_PARAMS, type SlhDsaAlgorithm } from '../algorithms.js';
import { type AsymmetricMechanism, type KeyMaterial, storedMaterial } from './key-material.js';
import { slhDsaKeygenInWorker } from './keygen-pool.js';
import {
  checkEmbeddedPublicKey,
  noblePkcs8,
  nobleSpki,
  readPrivateKeyInfo,
  readPublicKey,
  readRawOrOctetString,
  readStoredPrivateKey,
} from './noble-keys.js';
import { nodePrivateKeys } from './pq-node-keys.js';
import { SLH_DSA, slhDsaKeygen } from './slh-dsa-params.js';

/** Parameter sets whose key generation takes more than ~50 ms with noble (measured; see the report). */
export const SLOW_SLH_DSA_KEYGEN: ReadonlySet<SlhDsaAlgorithm> = new Set([
  'SLH-DSA-SHA2-128s',
  'SLH-DSA-SHA2-192s',
  'SLH-DSA-SHA2-256s',
  'SLH-DSA-SHAKE-128s',
  'SLH-DSA-SHAKE-192s',
  'SLH-DSA-SHAKE-256s',
  'SLH-DSA-SHAKE-256f',
]);

const asSlhDsa = (algorithm: KeyAlgorithm) => algorithm as SlhDsaAlgorithm;

export function slhDsaLengths(algorithm: SlhDsaAlgorithm) {
  const { publicKey, secretKey, seed } = SLH_DSA[algorithm].lengths;
  return { publicKey: publicKey!, secretKey: secretKey!, seed: seed! };
}

function material(
  algorithm: SlhDsaAlgorithm,
  secretKey: Uint8Array | null,
  publicKey: Uint8Array,
): KeyMaterial {
  const { oid, securityBits } = PQ_PARAMS[algorithm];
  return {
    algorithm,
    algorithmOid: oid,
    curveOid: null,
    keySize: securityBits,
    publicKey: nobleSpki(oid, publicKey),
    secret: secretKey ? noblePkcs8(oid, secretKey) : null,
  };
}

const publicHalf = (secretKey: Uint8Array) => Buffer.from(secretKey.subarray(secretKey.length / 2));

function storedSecret(stored: KeyMaterial): Buffer {
  const algorithm = asSlhDsa(stored.algorithm);
  const content = readStoredPrivateKey(algorithm, PQ_PARAMS[algorithm].oid, stored);
  return storedMaterial(algorithm, () =>
    Buffer.from(readRawOrOctetString(content, slhDsaLengths(algorithm).secretKey, algorithm)),
  );
}

/** Key generation from a fresh seed: in the worker pool for the slow parameter sets. */
export async function generateSlhDsaPair(algorithm: SlhDsaAlgorithm, seed?: Uint8Array) {
  const bytes = seed ?? randomBytes(slhDsaLengths(algorithm).seed);
  return SLOW_SLH_DSA_KEYGEN.has(algorithm)
    ? slhDsaKeygenInWorker(algorithm, bytes)
    : slhDsaKeygen(algorithm, bytes);
}

export const slhDsa: AsymmetricMechanism = {
  async generate(alg) {
    const algorithm = asSlhDsa(alg);
    const { secretKey, publicKey } = await generateSlhDsaPair(algorithm);
    return material(algorithm, secretKey, publicKey);
  },

  fromPrivate(input, spec) {
    const algorithm = asSlhDsa(spec.algorithm);
    const info = readPrivateKeyInfo(algorithm, PQ_PARAMS[algorithm].oid, input);
    const secretKey = readRawOrOctetString(info.privateKey, slhDsaLengths(algorithm).secretKey, algorithm);
    const publicKey = publicHalf(secretKey);
    checkEmbeddedPublicKey(info, publicKey);
    return material(algorithm, secretKey, publicKey);
  },

  fromPublic(input, spec) {
    const algorithm = asSlhDsa(spec.algorithm);
    const publicKey = readPublicKey(
      algorithm,
      PQ_PARAMS[algorithm].oid,
      input,
      slhDsaLengths(algorithm).publicKey,
    );
    return material(algorithm, null, publicKey);
  },

  publicKeyOf(stored) {
    return nobleSpki(PQ_PARAMS[asSlhDsa(stored.algorithm)].oid, publicHalf(storedSecret(stored)));
  },

  load(stored) {
    const secretKey = storedSecret(stored);
    const algorithm = asSlhDsa(stored.algorithm);
    return {
      kind: 'noble',
      algorithm,
      secretKey,
      publicKey: publicHalf(secretKey),
      node: nodePrivateKeys(algorithm, { slhDsaSecretKey: secretKey }),
    };
  },
};
