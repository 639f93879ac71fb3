/**
 * Encodings around signature values: ECDSA / DSA `(r, s)` as DER `SEQUENCE { INTEGER r, INTEGER s }`
 * or RAW `r ‖ s` (each left-padded to the width of the group order), low-s normalisation, and the
 * PKCS#1 pieces node:crypto does not expose for a given digest (DigestInfo prefixes, EMSA-PSS
 * encoding and verification of RFC 8017 §9.1 with MGF1 and salt length = hash length).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Asn1Error, children, decode, expectTag, integer, readInteger, sequence, TAG } from '../der.js';

export const toBigInt = (bytes: Uint8Array): bigint =>
  bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

/** Unsigned big-endian bytes of exactly `width` bytes (throws when the value does not fit). */
export function toBytes(value: bigint, width: number): Buffer {
  if (value < 0n) throw new RangeError('negative value');
  const hex = value.toString(16).padStart(width * 2, '0');
  if (hex.length > width * 2) throw new RangeError('value too large');
  return Buffer.from(hex, 'hex');
}

export interface RS {
  r: bigint;
  s: bigint;
}

/** r and s from DER; null if malformed (trailing bytes, negative or non-minimal integers). */
export function readDerSignature(der: Uint8Array): RS | null {
  try {
    const parts = children(expectTag(decode(der), TAG.SEQUENCE, 'signature'));
    if (parts.length !== 2) return null;
    const r = readInteger(parts[0]!);
    const s = readInteger(parts[1]!);
    return r > 0n && s > 0n ? { r, s } : null;
  } catch {
    return null;
  }
}

export const writeDerSignature = ({ r, s }: RS): Buffer => sequence(integer(r), integer(s));

/** r and s from RAW r ‖ s of the expected total length; null otherwise. */
export function readRawSignature(raw: Uint8Array, width: number): RS | null {
  if (raw.length !== 2 * width) return null;
  const r = toBigInt(raw.subarray(0, width));
  const s = toBigInt(raw.subarray(width));
  return r > 0n && s > 0n ? { r, s } : null;
}

/** RAW r ‖ s of a DER signature (each value left-padded to `width`), without going through BigInt. */
export function derToRaw(der: Uint8Array, width: number): Buffer {
  const parts = children(expectTag(decode(der), TAG.SEQUENCE, 'signature'));
  if (parts.length !== 2) throw new Asn1Error('an ECDSA signature holds two INTEGERs');
  const out = Buffer.alloc(2 * width);
  parts.forEach((part, index) => {
    const { content } = expectTag(part, TAG.INTEGER, 'signature value');
    let start = 0;
    while (start < content.length && content[start] === 0) start++;
    if (content.length - start > width) throw new Asn1Error('signature value wider than the group order');
    content.copy(out, (index + 1) * width - (content.length - start), start);
  });
  return out;
}

export const writeRawSignature = ({ r, s }: RS, width: number): Buffer =>
  Buffer.concat([toBytes(r, width), toBytes(s, width)]);

/** (r, n − s) when s > n/2. */
export const lowS = ({ r, s }: RS, order: bigint): RS => (s > order >> 1n ? { r, s: order - s } : { r, s });

/** The `signatureType` of a request: how ECDSA / DSA signatures are encoded (see signature-request.ts). */
export type SignatureType = 'DER' | 'RAW' | 'ETH';

export function encodeRs(rs: RS, type: SignatureType, curve: { width: number }): Buffer {
  return type === 'RAW' ? writeRawSignature(rs, curve.width) : writeDerSignature(rs);
}

/** r and s of a DER or RAW signature, both below the group order; null otherwise. */
export function readRs(signature: Buffer, type: SignatureType, width: number, order: bigint): RS | null {
  const rs = type === 'RAW' ? readRawSignature(signature, width) : readDerSignature(signature);
  if (!rs || rs.r >= order || rs.s >= order) return null;
  return rs;
}

// ---------------------------------------------------------------------------------------------
// PKCS#1

export type RsaDigest = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1); the digest follows. */
export const DIGEST_INFO_PREFIX: Record<RsaDigest, Buffer> = {
  sha1: Buffer.from('3021300906052b0e03021a05000414', 'hex'),
  sha224: Buffer.from('302d300d06096086480165030402040500041c', 'hex'),
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

export const RSA_DIGEST_LENGTH: Record<RsaDigest, number> = {
  sha1: 20,
  sha224: 28,
  sha256: 32,
  sha384: 48,
  sha512: 64,
};

/** The SHA-1/SHA-2 hash whose digest has this length (for NONE_WITH_RSA_PSS). */
export function rsaDigestOfLength(length: number): RsaDigest | null {
  const found = (Object.entries(RSA_DIGEST_LENGTH) as [RsaDigest, number][]).find(
    ([, len]) => len === length,
  );
  return found ? found[0] : null;
}

function mgf1(hash: RsaDigest, seed: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  let produced = 0;
  for (let counter = 0; produced < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const block = createHash(hash).update(seed).update(c).digest();
    blocks.push(block);
    produced += block.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/**
 * EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of a digest, salt length = hash length, as a block of the
 * modulus length `k` (a leading zero byte when modBits − 1 is a multiple of 8) for a raw RSA operation.
 */
export function pssEncode(hash: RsaDigest, mHash: Uint8Array, modBits: number): Buffer {
  const hLen = RSA_DIGEST_LENGTH[hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < 2 * hLen + 2) throw new RangeError('the RSA key is too small for PSS with this hash');
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.alloc(emLen - hLen - 1);
  db[db.length - hLen - 1] = 0x01;
  salt.copy(db, db.length - hLen);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([db, h, Buffer.of(0xbc)]);
  const k = Math.ceil(modBits / 8);
  return k > emLen ? Buffer.concat([Buffer.alloc(k - emLen), em]) : em;
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) of the k-byte output of the public RSA operation. */
export function pssVerify(hash: RsaDigest, mHash: Uint8Array, block: Uint8Array, modBits: number): boolean {
  const hLen = RSA_DIGEST_LENGTH[hash];
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const k = Math.ceil(modBits / 8);
  if (block.length !== k || mHash.length !== hLen || emLen < 2 * hLen + 2) return false;
  for (let i = 0; i < k - emLen; i++) if (block[i] !== 0) return false;
  const em = Buffer.from(block.subarray(k - emLen));
  if (em[emLen - 1] !== 0xbc) return false;
  const db = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 8 * emLen - emBits;
  if (topBits > 0 && (db[0]! & (0xff << (8 - topBits)) & 0xff) !== 0) return false;
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> topBits;
  const psLen = emLen - 2 * hLen - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) return false;
  if (db[psLen] !== 0x01) return false;
  const salt = db.subarray(db.length - hLen);
  const expected = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  return timingSafeEqual(expected, h);
}
