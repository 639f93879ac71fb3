/**
 * Between raw derivation keys (a 32-byte EC scalar or Ed25519 seed) and the HSM's `KeyMaterial`
 * (PKCS#8 DER private key, SPKI DER public key). The PKCS#8 is built here and handed to node:crypto
 * (OpenSSL), which computes the public key; both are re-exported by node so derived material has
 * exactly the canonical form of generated and imported keys.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { TsbError } from '../../errors.js';
import { algorithmOidOf, OIDS } from '../algorithms.js';
import { integer, objectIdentifier, octetString, sequence } from '../der.js';
import type { KeyMaterial } from '../mechanisms/key-material.js';
import { algorithmIdentifier, encodePkcs8 } from '../spki-pkcs8.js';
import { type DerivationCurve, derivationCurve } from './extended-keys.js';

/** PKCS#8 of a raw private key on a derivation curve (EC: SEC1 ECPrivateKey without the public key). */
export function pkcs8Of(curve: DerivationCurve, privateKey: Uint8Array): Buffer {
  if (privateKey.length !== 32)
    throw new TsbError('HSM_INTEGRITY', 'a derivation private key must be 32 bytes');
  if (curve.info.algorithm === 'ED') {
    return encodePkcs8(algorithmIdentifier(curve.info.oid), octetString(privateKey));
  }
  const ecPrivateKey = sequence(integer(1), octetString(privateKey));
  return encodePkcs8(algorithmIdentifier(OIDS.ecPublicKey, objectIdentifier(curve.info.oid)), ecPrivateKey);
}

/** The key material (canonical PKCS#8 + SPKI, as node exports them) of a raw private key. */
export function materialOf(curve: DerivationCurve, privateKey: Uint8Array): KeyMaterial {
  const key = createPrivateKey({ key: pkcs8Of(curve, privateKey), format: 'der', type: 'pkcs8' });
  const algorithm = curve.info.algorithm;
  return {
    algorithm,
    algorithmOid: algorithmOidOf(algorithm, curve.info.oid),
    curveOid: curve.info.oid,
    keySize: curve.info.keySize,
    publicKey: createPublicKey(key).export({ type: 'spki', format: 'der' }),
    secret: key.export({ type: 'pkcs8', format: 'der' }),
  };
}

/**
 * The raw 32-byte private key (EC scalar, Ed25519 seed) of stored material of a derivable key:
 * what `deriveChild` takes as the parent's `privateKey`.
 */
export function rawPrivateKeyOf(material: KeyMaterial): Buffer {
  const curve = derivationCurve(material.algorithm, material.curveOid);
  if (!material.secret) {
    throw new TsbError('DERIVATION_NOT_SUPPORTED', 'a public key alone cannot derive private child keys');
  }
  let d: string | undefined;
  try {
    const jwk = createPrivateKey({ key: material.secret, format: 'der', type: 'pkcs8' }).export({
      format: 'jwk',
    });
    d = jwk.d;
  } catch {
    throw new TsbError('HSM_INTEGRITY', `the stored ${material.algorithm} key material could not be parsed`);
  }
  const raw = Buffer.from(d ?? '', 'base64url');
  if (raw.length === 0 || raw.length > 32) {
    throw new TsbError('HSM_INTEGRITY', `the stored ${curve.info.name} private key has an unexpected size`);
  }
  return Buffer.concat([Buffer.alloc(32 - raw.length), raw]);
}
