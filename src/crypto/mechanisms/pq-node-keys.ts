/**
 * node:crypto KeyObjects of the post-quantum families (ML-DSA, ML-KEM, SLH-DSA) where the runtime's
 * OpenSSL has them (Node 24, OpenSSL 3.5). They are imported from what noble already parsed out of
 * the stored material (the ML-DSA / ML-KEM seed, the SLH-DSA secret key, the raw public key), so the
 * stored formats stay as they are. null where the runtime lacks the algorithm or takes no such key
 * (e.g. an ML-KEM key imported without its seed): noble then does the work.
 */
import { createPrivateKey, createPublicKey, type KeyObject, type KeyType } from 'node:crypto';
import type { MlDsaAlgorithm, MlKemAlgorithm, SlhDsaAlgorithm } from '../algorithms.js';

export type NodePqAlgorithm = MlDsaAlgorithm | MlKemAlgorithm | SlhDsaAlgorithm;

/** A post-quantum key pair as node:crypto holds it. */
export interface NodePqKeys {
  key: KeyObject;
  publicKey: KeyObject;
}

/** 'ML-DSA-65' → 'ml-dsa-65', 'SLH-DSA-SHA2-128s' → 'slh-dsa-sha2-128s' (node's asymmetricKeyType). */
const nodeType = (algorithm: NodePqAlgorithm) => algorithm.toLowerCase() as KeyType;

/** Types this runtime refused once, so a missing algorithm costs one exception, not one per key. */
const unsupported = new Set<string>();

function attempt<T>(type: string, make: () => T): T | null {
  if (unsupported.has(type)) return null;
  try {
    return make();
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_INVALID_ARG_VALUE') unsupported.add(type);
    return null;
  }
}

/**
 * The KeyObjects of a private key: from the seed (ML-DSA 32 bytes, ML-KEM d‖z 64 bytes), or from
 * the expanded key as RFC 9881/9935 PKCS#8 `expandedKey`, or from the SLH-DSA secret key.
 */
export function nodePrivateKeys(
  algorithm: NodePqAlgorithm,
  from: { seed: Uint8Array } | { expandedPkcs8: Buffer } | { slhDsaSecretKey: Uint8Array },
): NodePqKeys | null {
  const type = nodeType(algorithm);
  return attempt(type, () => {
    const key =
      'seed' in from
        ? createPrivateKey({ key: Buffer.from(from.seed), format: 'raw-seed', asymmetricKeyType: type })
        : 'expandedPkcs8' in from
          ? createPrivateKey({ key: from.expandedPkcs8, format: 'der', type: 'pkcs8' })
          : createPrivateKey({
              key: Buffer.from(from.slhDsaSecretKey),
              format: 'raw-private',
              asymmetricKeyType: type,
            });
    if (key.asymmetricKeyType !== type) return null;
    return { key, publicKey: createPublicKey(key) };
  });
}

/** The KeyObject of a raw public key. */
export function nodePublicKey(algorithm: NodePqAlgorithm, publicKey: Uint8Array): KeyObject | null {
  const type = nodeType(algorithm);
  return attempt(type, () =>
    createPublicKey({ key: Buffer.from(publicKey), format: 'raw-public', asymmetricKeyType: type }),
  );
}
