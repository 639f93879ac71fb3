/**
 * BLS12-381 keys in the "minimal public key" variant: a 32-byte secret scalar and a 48-byte
 * compressed G1 public key (signatures in G2). Encodings (no standard exists; same OID for both):
 * - SPKI: AlgorithmIdentifier { 1.3.6.1.4.1.44668.5.3.1.1 } (no parameters), BIT STRING = compressed point.
 * - PKCS#8: same AlgorithmIdentifier, privateKey OCTET STRING = the 32-byte big-endian scalar
 *   (an inner OCTET STRING wrapping, as RFC 8410 does for EdDSA, is accepted on import).
 */
import { randomBytes } from 'node:crypto';
import { bls12_381, bls12_381_Fr } from '@noble/curves/bls12-381.js';
import { BLS_KEY_SIZE, OIDS } from '../algorithms.js';
import { type AsymmetricMechanism, fail, type KeyMaterial, parsing, storedMaterial } from './key-material.js';
import {
  checkEmbeddedPublicKey,
  noblePkcs8,
  nobleSpki,
  readPrivateKeyInfo,
  readPublicKey,
  readRawOrOctetString,
  readStoredPrivateKey,
} from './noble-keys.js';

const SIGS = bls12_381.longSignatures;
export const BLS_SECRET_KEY_LENGTH = 32;
export const BLS_PUBLIC_KEY_LENGTH = 48;

/** The compressed G1 public key of a secret scalar in [1, r-1]. */
export function blsPublicKey(secretKey: Uint8Array): Uint8Array {
  const scalar = BigInt(`0x${Buffer.from(secretKey).toString('hex') || '0'}`);
  if (secretKey.length !== BLS_SECRET_KEY_LENGTH || scalar <= 0n || scalar >= bls12_381_Fr.ORDER) {
    throw fail('PARSING_KEY', 'the BLS private key is not a scalar of the BLS12-381 group order');
  }
  return SIGS.getPublicKey(secretKey).toBytes(true);
}

function material(secretKey: Uint8Array | null, publicKey: Uint8Array): KeyMaterial {
  return {
    algorithm: 'BLS',
    algorithmOid: OIDS.bls12381G1,
    curveOid: null,
    keySize: BLS_KEY_SIZE,
    publicKey: nobleSpki(OIDS.bls12381G1, publicKey),
    secret: secretKey ? noblePkcs8(OIDS.bls12381G1, secretKey) : null,
  };
}

function storedSecret(stored: KeyMaterial): Uint8Array {
  const content = readStoredPrivateKey('BLS', OIDS.bls12381G1, stored);
  return storedMaterial('BLS', () =>
    Buffer.from(readRawOrOctetString(content, BLS_SECRET_KEY_LENGTH, 'BLS')),
  );
}

export const bls: AsymmetricMechanism = {
  async generate() {
    const { secretKey } = SIGS.keygen(randomBytes(SIGS.lengths.seed ?? 48));
    return material(secretKey, blsPublicKey(secretKey));
  },

  fromPrivate(input) {
    const info = readPrivateKeyInfo('BLS', OIDS.bls12381G1, input);
    const secretKey = readRawOrOctetString(info.privateKey, BLS_SECRET_KEY_LENGTH, 'BLS');
    const publicKey = blsPublicKey(secretKey);
    checkEmbeddedPublicKey(info, publicKey);
    return material(secretKey, publicKey);
  },

  fromPublic(input) {
    const publicKey = readPublicKey('BLS', OIDS.bls12381G1, input, BLS_PUBLIC_KEY_LENGTH);
    parsing('PARSING_KEY', 'the BLS public key is not a valid compressed G1 point', () => {
      const point = bls12_381.G1.Point.fromBytes(publicKey);
      point.assertValidity();
      if (point.is0()) throw new Error('identity');
    });
    return material(null, publicKey);
  },

  publicKeyOf(stored) {
    return nobleSpki(OIDS.bls12381G1, blsPublicKey(storedSecret(stored)));
  },

  load(stored) {
    const secretKey = storedSecret(stored);
    return { kind: 'noble', algorithm: 'BLS', secretKey, publicKey: blsPublicKey(secretKey) };
  },
};
