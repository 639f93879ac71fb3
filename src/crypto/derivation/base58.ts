/**
 * Base58 and Base58Check (double SHA-256 checksum) with the Bitcoin alphabet or the XRP Ledger's own
 * alphabet, on @scure/base's codecs. Leading zero bytes become leading "zero" characters, as both chains do.
 */
import { createHash } from 'node:crypto';
import { base58, base58xrp } from '@scure/base';

export const BITCOIN_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
export const RIPPLE_ALPHABET = 'rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz';

function codecOf(alphabet: string) {
  if (alphabet === BITCOIN_ALPHABET) return base58;
  if (alphabet === RIPPLE_ALPHABET) return base58xrp;
  throw new Error('unknown base58 alphabet');
}

export const base58Encode = (bytes: Uint8Array, alphabet = BITCOIN_ALPHABET): string =>
  codecOf(alphabet).encode(bytes);

export const base58Decode = (text: string, alphabet = BITCOIN_ALPHABET): Buffer =>
  Buffer.from(codecOf(alphabet).decode(text));

const checksumOf = (data: Uint8Array): Buffer =>
  createHash('sha256').update(createHash('sha256').update(data).digest()).digest().subarray(0, 4);

export const base58CheckEncode = (payload: Uint8Array, alphabet = BITCOIN_ALPHABET): string =>
  base58Encode(Buffer.concat([payload, checksumOf(payload)]), alphabet);

/** The payload of a Base58Check string; throws on a bad character or checksum. */
export function base58CheckDecode(text: string, alphabet = BITCOIN_ALPHABET): Buffer {
  const bytes = base58Decode(text, alphabet);
  if (bytes.length < 4) throw new Error('base58check string too short');
  const payload = bytes.subarray(0, bytes.length - 4);
  if (!checksumOf(payload).equals(bytes.subarray(bytes.length - 4))) {
    throw new Error('invalid base58check checksum');
  }
  return payload;
}
