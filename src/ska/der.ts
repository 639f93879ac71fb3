/**
 * A deliberately tiny, strict DER reader for the few structures the SKA policy validator has to look
 * into itself (ML-DSA SubjectPublicKeyInfo, which Node 20 cannot parse, and the TBSCertificate fields
 * subjectPublicKeyInfo / validity). Definite lengths only, minimal length encoding enforced, single-byte
 * tags only (every tag we need is < 31). Every failure throws {@link DerError}.
 */
export class DerError extends Error {
  override readonly name = 'DerError';
}

export interface DerElement {
  /** The identifier octet (class, constructed bit and tag number), e.g. 0x30 for SEQUENCE. */
  tag: number;
  /** Offset of the identifier octet in the input. */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the last content octet (= start of the next element). */
  end: number;
}

export const DER_TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
  CONTEXT_0_CONSTRUCTED: 0xa0,
} as const;

/** Reads the element starting at `offset`; it must end at or before `limit`. */
export function readElement(buf: Uint8Array, offset: number, limit: number = buf.length): DerElement {
  if (offset + 2 > limit) throw new DerError('truncated DER element header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  const first = buf[offset + 1]!;
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new DerError('indefinite DER length');
    if (count > 4) throw new DerError('DER length too large');
    if (offset + 2 + count > limit) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    if (buf[offset + 2]! === 0 || length < 0x80) throw new DerError('non-minimal DER length');
    contentStart = offset + 2 + count;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('DER element exceeds its container');
  return { tag, start: offset, contentStart, end };
}

/** Reads exactly one element spanning the whole input (no trailing bytes). */
export function readSingle(buf: Uint8Array, expectedTag: number): DerElement {
  const el = readElement(buf, 0, buf.length);
  if (el.tag !== expectedTag)
    throw new DerError(`expected DER tag 0x${hex(expectedTag)}, got 0x${hex(el.tag)}`);
  if (el.end !== buf.length) throw new DerError('trailing bytes after DER element');
  return el;
}

/** The direct children of a constructed element. */
export function readChildren(buf: Uint8Array, parent: DerElement): DerElement[] {
  if ((parent.tag & 0x20) === 0) throw new DerError('not a constructed DER element');
  const children: DerElement[] = [];
  let offset = parent.contentStart;
  while (offset < parent.end) {
    const child = readElement(buf, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

export function content(buf: Uint8Array, el: DerElement): Uint8Array {
  return buf.subarray(el.contentStart, el.end);
}

export function encoded(buf: Uint8Array, el: DerElement): Uint8Array {
  return buf.subarray(el.start, el.end);
}

/** Decodes an OBJECT IDENTIFIER element to dotted form. */
export function readOid(buf: Uint8Array, el: DerElement): string {
  if (el.tag !== DER_TAG.OID) throw new DerError('expected an OBJECT IDENTIFIER');
  const bytes = content(buf, el);
  if (bytes.length === 0) throw new DerError('empty OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  let started = false;
  for (const byte of bytes) {
    if (!started && byte === 0x80) throw new DerError('non-minimal OBJECT IDENTIFIER arc');
    started = true;
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OBJECT IDENTIFIER arc too large');
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
      started = false;
    }
  }
  if (started) throw new DerError('truncated OBJECT IDENTIFIER');
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

/** Decodes a UTCTime or GeneralizedTime (Z form, as RFC 5280 requires) to a Date. */
export function readTime(buf: Uint8Array, el: DerElement): Date {
  const text = Buffer.from(content(buf, el)).toString('latin1');
  let match: RegExpExecArray | null;
  let year: number;
  if (el.tag === DER_TAG.UTC_TIME) {
    match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!match) throw new DerError('malformed UTCTime');
    const yy = Number(match[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (el.tag === DER_TAG.GENERALIZED_TIME) {
    match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!match) throw new DerError('malformed GeneralizedTime');
    year = Number(match[1]);
  } else {
    throw new DerError('expected a UTCTime or GeneralizedTime');
  }
  const [, , mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(Date.UTC(year, mo! - 1, d!, h!, mi!, s!));
  if (Number.isNaN(date.getTime())) throw new DerError('invalid time value');
  return date;
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
