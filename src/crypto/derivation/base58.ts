/**
 * Base58 and Base58Check (double SHA-256 checksum) with the Bitcoin alphabet or the XRP Ledger's
 * own alphabet. Leading zero bytes become leading "zero" characters, as both chains do.
 */
import { createHash } from 'node:crypto';

export const BITCOIN_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
export const RIPPLE_ALPHABET = 'rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz';

export function base58Encode(bytes: Uint8Array, alphabet = BITCOIN_ALPHABET): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let value = bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let out = '';
  while (value > 0n) {
    out = alphabet[Number(value % 58n)]! + out;
    value /= 58n;
  }
  return alphabet[0]!.repeat(zeros) + out;
}

export function base58Decode(text: string, alphabet = BITCOIN_ALPHABET): Buffer {
  let value = 0n;
  for (const char of text) {
    const digit = alphabet.indexOf(char);
    if (digit < 0) throw new Error('invalid base58 character');
    value = value * 58n + BigInt(digit);
  }
  let zeros = 0;
  while (zeros < text.length && text[zeros] === alphabet[0]) zeros++;
  const hex = value === 0n ? '' : value.toString(16);
  const body = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  return Buffer.concat([Buffer.alloc(zeros), body]);
}

const doubleSha256 = (data: Uint8Array): Buffer =>
  createHash('sha256').update(createHash('sha256').update(data).digest()).digest();

export const base58CheckEncode = (payload: Uint8Array, alphabet = BITCOIN_ALPHABET): string =>
  base58Encode(Buffer.concat([payload, doubleSha256(payload).subarray(0, 4)]), alphabet);

/** The payload of a Base58Check string; throws on a bad character or checksum. */
export function base58CheckDecode(text: string, alphabet = BITCOIN_ALPHABET): Buffer {
  const bytes = base58Decode(text, alphabet);
  if (bytes.length < 4) throw new Error('base58check string too short');
  const payload = bytes.subarray(0, bytes.length - 4);
  if (
    !doubleSha256(payload)
      .subarray(0, 4)
      .equals(bytes.subarray(bytes.length - 4))
  ) {
    throw new Error('invalid base58check checksum');
  }
  return payload;
}
