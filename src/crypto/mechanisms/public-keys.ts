/**
 * Public keys ready for signature verification, from stored SPKI DER: node KeyObjects for the
 * families OpenSSL knows (RSA, EC, ED, DSA), the raw public key for the noble families (BLS: the
 * 48-byte compressed G1 point; ML-DSA, SLH-DSA, ML-KEM: the raw key of the SPKI BIT STRING).
 * Stored public keys are ours, so a parse failure is an HSM integrity problem.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import {
  algorithmOidOf,
  isMlDsa,
  isMlKem,
  isSlhDsa,
  isStateful,
  isSymmetric,
  type KeyAlgorithm,
  type MlDsaAlgorithm,
  type MlKemAlgorithm,
  normalizeAlgorithm,
  type SlhDsaAlgorithm,
  type StatefulAlgorithm,
} from '../algorithms.js';
import { decodeSpki } from '../spki-pkcs8.js';
import { fail, storedMaterial } from './key-material.js';
import { nodePublicKey } from './pq-node-keys.js';

export type ReadyPublicKey =
  | { kind: 'node'; algorithm: 'RSA' | 'EC' | 'ED' | 'DSA'; curveOid: string | null; key: KeyObject }
  | {
      kind: 'noble';
      algorithm: 'BLS' | MlDsaAlgorithm | MlKemAlgorithm | SlhDsaAlgorithm;
      /** raw public key (BLS: compressed G1 point) */
      publicKey: Uint8Array;
      /** the same key in node:crypto, where the runtime has the algorithm (pq-node-keys.ts) */
      node?: KeyObject | null;
    }
  | { kind: 'stateful'; algorithm: StatefulAlgorithm; publicKey: Uint8Array };

/** A public key ready for verification, from its SPKI DER (curveOid for EC / ED keys). */
export function loadPublic(algorithm: KeyAlgorithm, spki: Buffer, curveOid: string | null): ReadyPublicKey {
  const canonical = normalizeAlgorithm(algorithm);
  if (isSymmetric(canonical)) throw fail('INVALID_KEY_TYPE', `a ${canonical} key has no public key`);
  switch (canonical) {
    case 'RSA':
    case 'EC':
    case 'ED':
    case 'DSA': {
      const key = storedMaterial(canonical, () =>
        createPublicKey({ key: spki, format: 'der', type: 'spki' }),
      );
      return {
        kind: 'node',
        algorithm: canonical,
        curveOid: canonical === 'RSA' || canonical === 'DSA' ? null : curveOid,
        key,
      };
    }
    default: {
      if (
        canonical !== 'BLS' &&
        !isMlDsa(canonical) &&
        !isSlhDsa(canonical) &&
        !isMlKem(canonical) &&
        !isStateful(canonical)
      ) {
        throw fail('INVALID_KEY_TYPE', `${canonical} keys have no public key for verification`);
      }
      const expectedOid = algorithmOidOf(canonical, null);
      const info = storedMaterial(canonical, () => decodeSpki(spki));
      if (info.algorithm.oid !== expectedOid) {
        throw fail(
          'HSM_INTEGRITY',
          `the stored ${canonical} public key has the algorithm OID ${info.algorithm.oid}`,
        );
      }
      const publicKey = new Uint8Array(info.publicKey);
      if (isStateful(canonical)) return { kind: 'stateful', algorithm: canonical, publicKey };
      if (canonical === 'BLS') return { kind: 'noble', algorithm: canonical, publicKey };
      return { kind: 'noble', algorithm: canonical, publicKey, node: nodePublicKey(canonical, publicKey) };
    }
  }
}
