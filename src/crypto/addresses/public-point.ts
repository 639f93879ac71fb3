/** The public point of an EC or Ed25519 key, in the forms both address kinds are made of. */
import { createPublicKey } from 'node:crypto';
import { TsbError } from '../../errors.js';
import { curveByNodeName } from '../algorithms.js';

export interface RawPublicKey {
  algorithm: 'EC' | 'ED';
  curveOid: string | null;
  /** EC: the compressed point (33 bytes); ED: the raw public key (32 bytes) */
  compressed: Buffer;
  /** EC only: X || Y (64 bytes for 256-bit curves) */
  uncompressedXY: Buffer | null;
}

/** The raw public point of an EC or Ed25519 SPKI, in the forms addresses are made of. */
export function rawPublicKey(spki: Buffer): RawPublicKey {
  let jwk: { kty?: string; crv?: string; x?: string; y?: string };
  try {
    jwk = createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  } catch {
    throw new TsbError('PARSING_KEY', 'the public key could not be parsed');
  }
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  if (jwk.kty === 'OKP') {
    const curve = jwk.crv === 'Ed25519' ? curveByNodeName('ED', 'ed25519') : undefined;
    return { algorithm: 'ED', curveOid: curve?.oid ?? null, compressed: x, uncompressedXY: null };
  }
  if (jwk.kty !== 'EC')
    throw new TsbError('INVALID_KEY_TYPE', 'addresses exist for EC and Ed25519 keys only');
  const y = Buffer.from(jwk.y ?? '', 'base64url');
  const nodeCurve = jwk.crv === 'secp256k1' ? 'secp256k1' : jwk.crv === 'P-256' ? 'prime256v1' : '';
  const prefix = ((y[y.length - 1] ?? 0) & 1) === 1 ? 0x03 : 0x02;
  return {
    algorithm: 'EC',
    curveOid: curveByNodeName('EC', nodeCurve)?.oid ?? null,
    compressed: Buffer.concat([Buffer.of(prefix), x]),
    uncompressedXY: Buffer.concat([x, y]),
  };
}
