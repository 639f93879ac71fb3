/**
 * Full blockchain addresses of a public key (SPKI DER), for `POST /v1/key/address`:
 * - BTC: legacy P2PKH, Base58Check(0x00 || HASH160(compressed point)) — `1…`;
 * - ETH: EIP-55 mixed-case checksummed `0x` + last 20 bytes of Keccak-256(uncompressed X || Y);
 * - XRP: Base58Check with the XRP Ledger alphabet of (0x00 || HASH160(public key)), the public key
 *   being the compressed secp256k1 point or `0xED || A` for Ed25519 — `r…`;
 * - XLM: Stellar StrKey account ID, base32(0x30 || A || CRC16-XModem little-endian) — `G…`.
 * IOTA is not offered (NOT_IMPLEMENTED). These are mainnet forms; the address bases of
 * `addressTruncated` stay in address-formats.ts (same hashes, without version byte and checksum).
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { TsbError } from '../../errors.js';
import { curveByOid } from '../algorithms.js';
import { base58CheckEncode, RIPPLE_ALPHABET } from '../derivation/base58.js';
import { hash160 } from '../derivation/extended-keys.js';
import { type AddressFormat, addressFormatFits } from './address-formats.js';
import { type RawPublicKey, rawPublicKey } from './public-point.js';

/** EIP-55: a 40-digit hex address (with or without 0x) in checksummed mixed case, with 0x. */
export function toChecksumAddress(address: string): string {
  const hex = address.replace(/^0x/i, '').toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(hex)) throw new TsbError('INPUT_VALIDATION_FAILED', 'not a 20-byte hex address');
  const hash = Buffer.from(keccak_256(Buffer.from(hex, 'ascii'))).toString('hex');
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const char = hex[i]!;
    out += Number.parseInt(hash[i]!, 16) >= 8 ? char.toUpperCase() : char;
  }
  return out;
}

export function btcAddress(spki: Buffer): string {
  const key = fitting('BTC', spki);
  return base58CheckEncode(Buffer.concat([Buffer.of(0x00), hash160(key.compressed)]));
}

export function ethAddress(spki: Buffer): string {
  const key = fitting('ETH', spki);
  const hash = Buffer.from(keccak_256(key.uncompressedXY!));
  return toChecksumAddress(hash.subarray(12).toString('hex'));
}

export function xrpAddress(spki: Buffer): string {
  const key = fitting('XRP', spki);
  const publicKey =
    key.algorithm === 'ED' ? Buffer.concat([Buffer.of(0xed), key.compressed]) : key.compressed;
  return base58CheckEncode(Buffer.concat([Buffer.of(0x00), hash160(publicKey)]), RIPPLE_ALPHABET);
}

export function xlmAddress(spki: Buffer): string {
  return stellarAccountId(fitting('XLM', spki).compressed);
}

/** StrKey account ID (`G…`) of a raw 32-byte Ed25519 public key. */
export function stellarAccountId(publicKey: Uint8Array): string {
  if (publicKey.length !== 32)
    throw new TsbError('INPUT_VALIDATION_FAILED', 'an Ed25519 public key is 32 bytes');
  const payload = Buffer.concat([Buffer.of(6 << 3), publicKey]);
  const checksum = Buffer.alloc(2);
  checksum.writeUInt16LE(crc16Xmodem(payload));
  return base32(Buffer.concat([payload, checksum]));
}

/** The full address of a public key in the given format (see the file comment). */
export function keyAddress(format: AddressFormat, spki: Buffer): string {
  switch (format) {
    case 'BTC':
      return btcAddress(spki);
    case 'ETH':
      return ethAddress(spki);
    case 'XRP':
      return xrpAddress(spki);
    case 'XLM':
      return xlmAddress(spki);
    case 'IOTA':
      throw new TsbError('NOT_IMPLEMENTED', 'IOTA addresses are not implemented');
  }
}

function fitting(format: AddressFormat, spki: Buffer): RawPublicKey {
  const key = rawPublicKey(spki);
  if (!key.curveOid || !addressFormatFits(format, key.algorithm, key.curveOid)) {
    const curve = key.curveOid ? curveByOid(key.curveOid)?.name : undefined;
    throw new TsbError(
      'INVALID_KEY_TYPE',
      `a ${format} address cannot be made from an ${key.algorithm} key on ${curve ?? 'this curve'}`,
    );
  }
  return key;
}

function crc16Xmodem(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}
