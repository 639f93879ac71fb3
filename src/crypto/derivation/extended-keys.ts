/**
 * What the BIP32 (secp256k1), SLIP-10 (NIST P-256, Ed25519) implementations share: the curves that
 * support derivation, extended keys, HMAC-SHA512, HASH160 and key fingerprints.
 */
import { createHash, createHmac } from 'node:crypto';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { TsbError } from '../../errors.js';
import { type CurveInfo, curveByOid } from '../algorithms.js';

/** The curves SLIP-10 defines, named as SLIP-10 does. */
export type DerivationCurveName = 'secp256k1' | 'nist256p1' | 'ed25519';

export interface DerivationCurve {
  name: DerivationCurveName;
  /** the curve in the HSM catalogue (OID, algorithm, node:crypto name) */
  info: CurveInfo;
  /** the HMAC key of master key generation */
  seedKey: string;
}

const CURVE_BY_OID: Record<string, { name: DerivationCurveName; seedKey: string }> = {
  '1.3.132.0.10': { name: 'secp256k1', seedKey: 'Bitcoin seed' },
  '1.2.840.10045.3.1.7': { name: 'nist256p1', seedKey: 'Nist256p1 seed' },
  '1.3.101.112': { name: 'ed25519', seedKey: 'ed25519 seed' },
};

/**
 * The derivation curve of a key; DERIVATION_NOT_SUPPORTED (634) for any other algorithm or curve
 * (EC keys on secp256k1 / P-256 and Ed25519 keys derive; reference §3.3).
 */
export function derivationCurve(algorithm: string, curveOid: string | null | undefined): DerivationCurve {
  const entry = curveOid ? CURVE_BY_OID[curveOid] : undefined;
  const info = curveOid ? curveByOid(curveOid) : undefined;
  if (!entry || !info || info.algorithm !== algorithm) {
    const what = info ? `${algorithm} keys on ${info.name}` : `${algorithm} keys`;
    throw new TsbError(
      'DERIVATION_NOT_SUPPORTED',
      `BIP32/SLIP-10 derivation is not supported for ${what}; it needs an EC key on secp256k1 or secp256r1, or an Ed25519 key`,
    );
  }
  return { ...entry, info };
}

/**
 * An extended private key (BIP32 §"Extended keys"): the private key with its chain code and its
 * place in the tree. `publicKey` is ser_P: the compressed point (33 bytes) for secp256k1 / P-256,
 * `0x00 || public key` (33 bytes) for Ed25519 as SLIP-10 writes it.
 */
export interface ExtendedPrivateKey {
  curve: DerivationCurveName;
  /** the private scalar (EC) or the private key seed (Ed25519), 32 bytes */
  privateKey: Buffer;
  publicKey: Buffer;
  chainCode: Buffer;
  /** 0 for the master key */
  depth: number;
  /** the first 4 bytes of HASH160 of the parent's ser_P as a uint32; 0 for the master key */
  parentFingerprint: number;
  /** the child number (hardened ≥ 2^31); 0 for the master key */
  index: number;
}

export type ExtendedPublicKey = Omit<ExtendedPrivateKey, 'privateKey'>;

export const hmacSha512 = (key: Uint8Array | string, data: Uint8Array): Buffer =>
  createHmac('sha512', key).update(data).digest();

export const hash160 = (data: Uint8Array): Buffer =>
  Buffer.from(ripemd160(createHash('sha256').update(data).digest()));

/** The fingerprint of a key (first 32 bits of HASH160 of ser_P) as a uint32. */
export const fingerprintOf = (publicKey: Uint8Array): number => hash160(publicKey).readUInt32BE(0);

export const ser32 = (value: number): Buffer => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
};

export const bytesToBigint = (bytes: Uint8Array): bigint =>
  bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

export function bigintTo32Bytes(value: bigint): Buffer {
  return Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
}

/** BIP32 seeds are 128 to 512 bits; anything else is INPUT_VALIDATION_FAILED. */
export function assertSeed(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length < 16 || seed.length > 64) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `the seed must be 16 to 64 bytes (128 to 512 bits), not ${seed?.length ?? 0} bytes`,
    );
  }
}

export function assertChainCode(chainCode: Uint8Array): void {
  if (!(chainCode instanceof Uint8Array) || chainCode.length !== 32) {
    throw new TsbError('HSM_INTEGRITY', 'the chain code of a derivable key must be 32 bytes');
  }
}
