/**
 * The key mechanism shared by ML-DSA and ML-KEM (noble): both store the private key in the seed form
 * of their RFC (`CHOICE { seed [0] IMPLICIT OCTET STRING, expandedKey OCTET STRING, both SEQUENCE }`),
 * accept all three forms on import (checking that seed and expanded key agree), and publish the raw
 * public key in an SPKI without algorithm parameters. The families differ only in their parameter
 * sets, seed length, and how a public key is recovered and checked from an expanded private key.
 */
import { randomBytes } from 'node:crypto';
import { type KeyAlgorithm, type MlDsaAlgorithm, type MlKemAlgorithm, PQ_PARAMS } from '../algorithms.js';
import { implicitPrimitive, octetString } from '../der.js';
import { type AsymmetricMechanism, fail, type KeyMaterial, storedMaterial } from './key-material.js';
import {
  checkEmbeddedPublicKey,
  noblePkcs8,
  nobleSpki,
  readPrivateKeyInfo,
  readPublicKey,
  readSeedChoice,
  readStoredPrivateKey,
} from './noble-keys.js';
import { nodePrivateKeys } from './pq-node-keys.js';

type SeededAlgorithm = MlDsaAlgorithm | MlKemAlgorithm;

interface SeededImplementation {
  keygen(seed: Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array };
  lengths: { publicKey?: number; secretKey?: number };
}

export interface SeededFamily<A extends SeededAlgorithm> {
  implementations: Record<A, SeededImplementation>;
  seedLength: number;
  /** The public key of an expanded private key, after the family's consistency check (PARSING_KEY otherwise). */
  publicKeyOfExpanded(algorithm: A, secretKey: Buffer): Uint8Array;
  /** An extra check of an imported public key (PARSING_KEY when it fails). */
  checkPublicKey?(algorithm: A, publicKey: Uint8Array): void;
}

interface Keys {
  seed: Uint8Array | null;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function seededLatticeMechanism<A extends SeededAlgorithm>(
  family: SeededFamily<A>,
): AsymmetricMechanism {
  const as = (algorithm: KeyAlgorithm) => algorithm as A;
  const lengths = (algorithm: A) => {
    const { publicKey, secretKey } = family.implementations[algorithm].lengths;
    return { publicKey: publicKey!, secretKey: secretKey! };
  };

  const material = (algorithm: A, keys: Keys | null, publicKey: Uint8Array): KeyMaterial => {
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
  };

  const keysOf = (algorithm: A, content: Buffer): Keys => {
    const { seed, expanded } = readSeedChoice(
      content,
      family.seedLength,
      lengths(algorithm).secretKey,
      algorithm,
    );
    if (seed) {
      const keys = family.implementations[algorithm].keygen(seed);
      if (expanded && !Buffer.from(keys.secretKey).equals(expanded)) {
        throw fail('PARSING_KEY', `the ${algorithm} seed and expanded private key do not match`);
      }
      return { seed: Buffer.from(seed), secretKey: keys.secretKey, publicKey: keys.publicKey };
    }
    const secretKey = Buffer.from(expanded!);
    return {
      seed: null,
      secretKey,
      publicKey: Buffer.from(family.publicKeyOfExpanded(algorithm, secretKey)),
    };
  };

  const stored = (stored: KeyMaterial): Keys => {
    const algorithm = as(stored.algorithm);
    const content = readStoredPrivateKey(algorithm, PQ_PARAMS[algorithm].oid, stored);
    return storedMaterial(algorithm, () => keysOf(algorithm, content));
  };

  return {
    async generate(alg) {
      const algorithm = as(alg);
      const seed = randomBytes(family.seedLength);
      const { secretKey, publicKey } = family.implementations[algorithm].keygen(seed);
      return material(algorithm, { seed, secretKey, publicKey }, publicKey);
    },

    fromPrivate(input, spec) {
      const algorithm = as(spec.algorithm);
      const info = readPrivateKeyInfo(algorithm, PQ_PARAMS[algorithm].oid, input);
      const keys = keysOf(algorithm, info.privateKey);
      checkEmbeddedPublicKey(info, keys.publicKey);
      return material(algorithm, keys, keys.publicKey);
    },

    fromPublic(input, spec) {
      const algorithm = as(spec.algorithm);
      const publicKey = readPublicKey(
        algorithm,
        PQ_PARAMS[algorithm].oid,
        input,
        lengths(algorithm).publicKey,
      );
      family.checkPublicKey?.(algorithm, publicKey);
      return material(algorithm, null, publicKey);
    },

    publicKeyOf(key) {
      return nobleSpki(PQ_PARAMS[as(key.algorithm)].oid, stored(key).publicKey);
    },

    load(key) {
      const algorithm = as(key.algorithm);
      const { seed, secretKey, publicKey } = stored(key);
      const node = nodePrivateKeys(
        algorithm,
        seed
          ? { seed }
          : { expandedPkcs8: noblePkcs8(PQ_PARAMS[algorithm].oid, octetString(Buffer.from(secretKey))) },
      );
      return { kind: 'noble', algorithm, secretKey, publicKey, node };
    },
  };
}
