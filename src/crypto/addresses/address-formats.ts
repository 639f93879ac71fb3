import { keccak_256 } from '@noble/hashes/sha3.js';
import { hash160 } from '../derivation/extended-keys.js';
import { rawPublicKey } from './public-point.js';

export const ADDRESS_FORMATS = ['BTC', 'ETH', 'XLM', 'XRP', 'IOTA'] as const;
export type AddressFormat = (typeof ADDRESS_FORMATS)[number];

const SECP256K1 = '1.3.132.0.10';
const ED25519 = '1.3.101.112';

/** Which key (algorithm and curve) each address format belongs to. */
export function addressFormatFits(
  format: AddressFormat,
  algorithm: string,
  curveOid: string | null,
): boolean {
  switch (format) {
    case 'BTC':
    case 'ETH':
      return algorithm === 'EC' && curveOid === SECP256K1;
    case 'XRP':
      return (algorithm === 'EC' && curveOid === SECP256K1) || (algorithm === 'ED' && curveOid === ED25519);
    case 'XLM':
    case 'IOTA':
      return algorithm === 'ED' && curveOid === ED25519;
  }
}

/**
 * The address base without checksum or network prefix, upper-case hex (reference §2.2 `addressTruncated`):
 * ETH = last 20 bytes of Keccak-256 of the uncompressed point; BTC and XRP = HASH160 of the compressed
 * point (XRP on Ed25519: of 0xED ‖ key); XLM and IOTA = the raw Ed25519 public key.
 */
export function truncatedAddress(format: AddressFormat, spki: Buffer): string {
  const key = rawPublicKey(spki);
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').toUpperCase();
  if (key.algorithm === 'ED') {
    return format === 'XRP'
      ? hex(hash160(Buffer.concat([Buffer.of(0xed), key.compressed])))
      : hex(key.compressed);
  }
  if (format === 'ETH') return hex(keccak_256(key.uncompressedXY!).subarray(12));
  return hex(hash160(key.compressed));
}
