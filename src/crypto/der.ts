/**
 * A minimal, strict DER encoder and decoder: enough ASN.1 to build and read SubjectPublicKeyInfo
 * (RFC 5280), PKCS#8 / OneAsymmetricKey (RFC 5958) and the outer layers of an X.509 certificate for
 * the algorithms node:crypto does not know (BLS12-381, ML-DSA, ML-KEM, SLH-DSA); those containers
 * are in spki-pkcs8.ts.
 *
 * The decoder accepts DER only: definite, minimally encoded lengths, single-byte tag numbers below
 * 31, no trailing bytes. Errors are `Asn1Error`; callers map them to their domain error.
 */

export class Asn1Error extends Error {
  override readonly name = 'Asn1Error';
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Tag byte of a context-specific tag `[n]`; constructed for EXPLICIT tagging or IMPLICIT on a constructed type. */
export const contextTag = (n: number, constructed: boolean): number => {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new Asn1Error(`context tag [${n}] out of range`);
  return 0x80 | (constructed ? 0x20 : 0) | n;
};

// ---------------------------------------------------------------------------------------------
// Encoding

export function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new Asn1Error(`invalid length ${length}`);
  if (length < 0x80) return Buffer.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with the given tag byte and content. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f) {
    throw new Asn1Error(`unsupported tag 0x${tag.toString(16)}`);
  }
  return Buffer.concat([Buffer.of(tag), encodeLength(content.length), content]);
}

export const sequence = (...items: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, Buffer.concat(items));
export const octetString = (bytes: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, bytes);
export const nullValue = (): Buffer => Buffer.of(TAG.NULL, 0);

export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  if (
    !Number.isInteger(unusedBits) ||
    unusedBits < 0 ||
    unusedBits > 7 ||
    (bytes.length === 0 && unusedBits)
  ) {
    throw new Asn1Error('invalid number of unused bits');
  }
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.of(unusedBits), bytes]));
}

/** INTEGER from a number, bigint, or unsigned big-endian bytes. */
export function integer(value: number | bigint | Uint8Array): Buffer {
  if (value instanceof Uint8Array) return tlv(TAG.INTEGER, minimalUnsigned(Buffer.from(value)));
  let n = BigInt(value);
  if (n >= 0n) {
    const hex = n.toString(16);
    return tlv(TAG.INTEGER, minimalUnsigned(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')));
  }
  // two's complement of a negative number
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  } while (n !== -1n || (bytes[0]! & 0x80) === 0);
  return tlv(TAG.INTEGER, Buffer.from(bytes));
}

function minimalUnsigned(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  if (trimmed.length === 0) return Buffer.of(0);
  return (trimmed[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed;
}

export function objectIdentifier(dotted: string): Buffer {
  if (!/^[0-2](?:\.(?:0|[1-9][0-9]*))+$/.test(dotted)) throw new Asn1Error(`invalid OID "${dotted}"`);
  const arcs = dotted.split('.').map((arc) => BigInt(arc));
  const [first, second] = arcs as [bigint, bigint];
  if (first < 2n && second > 39n) throw new Asn1Error(`invalid OID "${dotted}"`);
  const values = [first * 40n + second, ...arcs.slice(2)];
  const out: number[] = [];
  for (const value of values) {
    const chunk: number[] = [Number(value & 0x7fn)];
    for (let rest = value >> 7n; rest > 0n; rest >>= 7n) chunk.unshift(Number(rest & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/** `[n] EXPLICIT` around an encoded element. */
export const explicit = (n: number, encoded: Uint8Array): Buffer => tlv(contextTag(n, true), encoded);
/** `[n] IMPLICIT` on a primitive type (OCTET STRING, INTEGER, ...): the content with the context tag. */
export const implicitPrimitive = (n: number, content: Uint8Array): Buffer =>
  tlv(contextTag(n, false), content);

// ---------------------------------------------------------------------------------------------
// Decoding

export interface Asn1Node {
  /** the whole identifier octet */
  tag: number;
  constructed: boolean;
  /** 0 universal, 1 application, 2 context-specific, 3 private */
  tagClass: number;
  tagNumber: number;
  /** the content octets (a view into the input) */
  content: Buffer;
  /** the complete encoding of this element (a view into the input) */
  encoded: Buffer;
}

/** Reads the TLV starting at `offset`; returns it and the offset after it. */
export function readElement(input: Uint8Array, offset = 0): { node: Asn1Node; next: number } {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (offset >= buf.length) throw new Asn1Error('unexpected end of data');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Asn1Error('multi-byte tags are not supported');
  let pos = offset + 1;
  if (pos >= buf.length) throw new Asn1Error('missing length');
  const first = buf[pos++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new Asn1Error('indefinite length is not DER');
    if (count > 6) throw new Asn1Error('length too large');
    if (pos + count > buf.length) throw new Asn1Error('truncated length');
    if (buf[pos] === 0) throw new Asn1Error('non-minimal length encoding');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos + i]!;
    if (length < 0x80) throw new Asn1Error('non-minimal length encoding');
    pos += count;
  }
  const end = pos + length;
  if (end > buf.length) throw new Asn1Error('truncated element');
  return {
    node: {
      tag,
      constructed: (tag & 0x20) !== 0,
      tagClass: tag >> 6,
      tagNumber: tag & 0x1f,
      content: buf.subarray(pos, end),
      encoded: buf.subarray(offset, end),
    },
    next: end,
  };
}

/** Decodes exactly one element spanning the whole input. */
export function decode(input: Uint8Array): Asn1Node {
  const { node, next } = readElement(input, 0);
  if (next !== input.length) throw new Asn1Error('trailing data after the DER element');
  return node;
}

/** The elements inside a constructed element. */
export function children(node: Asn1Node): Asn1Node[] {
  if (!node.constructed)
    throw new Asn1Error(`element with tag 0x${node.tag.toString(16)} is not constructed`);
  const out: Asn1Node[] = [];
  for (let offset = 0; offset < node.content.length; ) {
    const { node: child, next } = readElement(node.content, offset);
    out.push(child);
    offset = next;
  }
  return out;
}

export function expectTag(node: Asn1Node | undefined, tag: number, what: string): Asn1Node {
  if (!node) throw new Asn1Error(`missing ${what}`);
  if (node.tag !== tag) {
    throw new Asn1Error(`${what}: expected tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
  }
  return node;
}

export function readObjectIdentifier(node: Asn1Node): string {
  expectTag(node, TAG.OID, 'OBJECT IDENTIFIER');
  const bytes = node.content;
  if (bytes.length === 0) throw new Asn1Error('empty OBJECT IDENTIFIER');
  const values: bigint[] = [];
  let value = 0n;
  let fresh = true;
  for (const byte of bytes) {
    if (fresh && byte === 0x80) throw new Asn1Error('non-minimal OID arc');
    value = (value << 7n) | BigInt(byte & 0x7f);
    fresh = false;
    if ((byte & 0x80) === 0) {
      values.push(value);
      value = 0n;
      fresh = true;
    }
  }
  if (!fresh) throw new Asn1Error('truncated OID arc');
  const head = values[0]!;
  const first = head < 40n ? 0n : head < 80n ? 1n : 2n;
  return [first, head - first * 40n, ...values.slice(1)].join('.');
}

export function readInteger(node: Asn1Node): bigint {
  expectTag(node, TAG.INTEGER, 'INTEGER');
  const bytes = node.content;
  if (bytes.length === 0) throw new Asn1Error('empty INTEGER');
  if (
    bytes.length > 1 &&
    ((bytes[0] === 0 && bytes[1]! < 0x80) || (bytes[0] === 0xff && bytes[1]! >= 0x80))
  ) {
    throw new Asn1Error('non-minimal INTEGER');
  }
  let value = BigInt(`0x${bytes.toString('hex')}`);
  if (bytes[0]! >= 0x80) value -= 1n << BigInt(bytes.length * 8);
  return value;
}

/** BIT STRING content; only whole bytes (0 unused bits) are accepted, as in keys and signatures. */
export function readBitString(node: Asn1Node): Buffer {
  expectTag(node, TAG.BIT_STRING, 'BIT STRING');
  if (node.content.length === 0) throw new Asn1Error('empty BIT STRING');
  if (node.content[0] !== 0) throw new Asn1Error('BIT STRING with unused bits');
  return node.content.subarray(1);
}

export function readOctetString(node: Asn1Node): Buffer {
  return expectTag(node, TAG.OCTET_STRING, 'OCTET STRING').content;
}

/** Decodes a UTCTime or GeneralizedTime (Z form, as RFC 5280 requires) to a Date. */
export function readTime(node: Asn1Node): Date {
  const text = node.content.toString('latin1');
  let match: RegExpExecArray | null;
  let year: number;
  if (node.tag === TAG.UTC_TIME) {
    match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!match) throw new Asn1Error('malformed UTCTime');
    const yy = Number(match[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (node.tag === TAG.GENERALIZED_TIME) {
    match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!match) throw new Asn1Error('malformed GeneralizedTime');
    year = Number(match[1]);
  } else {
    throw new Asn1Error('expected a UTCTime or GeneralizedTime');
  }
  const [, , mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(Date.UTC(year, mo! - 1, d!, h!, mi!, s!));
  if (Number.isNaN(date.getTime())) throw new Asn1Error('invalid time value');
  return date;
}
