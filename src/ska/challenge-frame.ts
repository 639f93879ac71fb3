/**
 * The TLV frame of challenges (shared with the TSB format): `u32le length`, then `u16le tag, u16le
 * length, value` items zero-padded to 4 bytes.
 */

import { TsbError } from '../errors.js';
import { bufferView } from '../lib/encoding.js';

export interface TlvItem {
  tag: number;
  value: Buffer;
}

const MAX_ITEM_BYTES = 0xffff;

/** The names of the tags in error messages (challenge and TSB tags). */
const TAG_NAMES: Record<number, string> = {
  59: 'operation',
  4098: 'label',
  4180: 'timestamp container',
  4182: 'timestamp signature',
  4183: 'TSB raw sign payload',
  4184: 'TSB binary policy',
  32513: 'payload digest',
  32514: 'request id',
  32515: 'rule digest',
  32516: 'key id',
  32517: 'key version',
  32518: 'operation parameters digest',
  32519: 'nonce',
  263: 'creation time',
};

/** `u32le length-of-rest`, then each item as `u16le tag, u16le length, value, zero padding to 4 bytes`. */
export function encodeTlvFrame(items: readonly TlvItem[]): Buffer {
  const body = Buffer.concat(items.map(encodeItem));
  return Buffer.concat([u32le(body.length), body]);
}

/**
 * Reads a TLV frame (a whole challenge, or the value of a 0x1054 item) into its items, checking the
 * length field, every item length and that padding bytes are zero. Does not interpret tags, so it
 * also reads the TSB's own challenges.
 */
export function readTlvFrame(bytes: Uint8Array, what = 'TLV frame'): TlvItem[] {
  const buf = bufferView(bytes);
  if (buf.length < 4)
    throw invalid(`${what}: truncated, ${buf.length} bytes is shorter than the length field`);
  const declared = buf.readUInt32LE(0);
  const actual = buf.length - 4;
  if (declared > actual) throw invalid(`${what}: truncated, declares ${declared} bytes but ${actual} follow`);
  if (declared < actual) throw invalid(`${what}: ${actual - declared} trailing bytes after the frame`);
  const items: TlvItem[] = [];
  for (let offset = 4; offset < buf.length; ) {
    const { item, next } = readItem(buf, offset, what);
    items.push(item);
    offset = next;
  }
  return items;
}

function encodeItem({ tag, value }: TlvItem): Buffer {
  if (value.length > MAX_ITEM_BYTES) {
    throw invalid(`challenge: ${tagName(tag)} is ${value.length} bytes, at most ${MAX_ITEM_BYTES} fit`);
  }
  const header = Buffer.alloc(4);
  header.writeUInt16LE(tag, 0);
  header.writeUInt16LE(value.length, 2);
  return Buffer.concat([header, value, Buffer.alloc(paddedLength(value.length) - value.length)]);
}

function readItem(buf: Buffer, offset: number, what: string): { item: TlvItem; next: number } {
  if (offset + 4 > buf.length) throw invalid(`${what}: truncated item header at offset ${offset}`);
  const tag = buf.readUInt16LE(offset);
  const length = buf.readUInt16LE(offset + 2);
  const valueStart = offset + 4;
  const valueEnd = valueStart + length;
  const next = valueStart + paddedLength(length);
  if (valueEnd > buf.length) {
    throw invalid(
      `${what}: ${tagName(tag)} at offset ${offset} declares ${length} bytes, only ${buf.length - valueStart} left`,
    );
  }
  if (next > buf.length) throw invalid(`${what}: ${tagName(tag)} at offset ${offset} lacks its padding`);
  if (buf.subarray(valueEnd, next).some((byte) => byte !== 0)) {
    throw invalid(`${what}: non-zero padding after ${tagName(tag)} at offset ${offset}`);
  }
  return { item: { tag, value: Buffer.from(buf.subarray(valueStart, valueEnd)) }, next };
}

const paddedLength = (length: number): number => (length + 3) & ~3;

export function u32le(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt32LE(value, 0);
  return buf;
}

export function u64le(value: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(BigInt(value), 0);
  return buf;
}

export function tagName(tag: number): string {
  const hex = `0x${tag.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = TAG_NAMES[tag];
  return name ? `${name} (tag ${hex})` : `unknown tag ${hex}`;
}

const invalid = (message: string): TsbError => new TsbError('INPUT_VALIDATION_FAILED', message);
