import { createHash, createPublicKey } from 'node:crypto';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { keccak_256 } from '@noble/hashes/sha3.js';

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
 * point; XLM and IOTA = the raw Ed25519 public key.
 */
export function truncatedAddress(format: AddressFormat, spki: Buffer): string {
  const jwk = createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  if (jwk.kty === 'OKP') {
    if (format === 'XRP') return hash160(Buffer.concat([Buffer.of(0xed), x]));
    return x.toString('hex').toUpperCase();
  }
  const y = Buffer.from(jwk.y ?? '', 'base64url');
  if (format === 'ETH')
    return Buffer.from(keccak_256(Buffer.concat([x, y])).subarray(12))
      .toString('hex')
      .toUpperCase();
  const compressed = Buffer.concat([Buffer.of(((y[y.length - 1] ?? 0) & 1) === 1 ? 0x03 : 0x02), x]);
  return hash160(compressed);
}

function hash160(data: Buffer): string {
  return Buffer.from(ripemd160(createHash('sha256').update(data).digest()))
    .toString('hex')
    .toUpperCase();
}
