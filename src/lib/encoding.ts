import { TsbError, type TsbErrorName } from '../errors.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (with padding, whitespace ignored), as the TSB uses for every binary field. */
export function decodeBase64(
  value: string,
  field: string,
  errorKind: TsbErrorName = 'INPUT_VALIDATION_FAILED',
): Buffer {
  const compact = value.replace(/\s+/g, '');
  if (!BASE64.test(compact)) throw new TsbError(errorKind, `${field} is not valid base64`);
  return Buffer.from(compact, 'base64');
}

/**
 * A key or certificate field: base64 DER, or PEM text (armour and OpenSSL headers are tolerated,
 * as the TSB does); PEM is passed on as its text bytes for the parser to read.
 */
export function decodeKeyField(value: string, field: string, errorKind: TsbErrorName): Buffer {
  if (value.includes('-----BEGIN')) return Buffer.from(value, 'utf8');
  return decodeBase64(value, field, errorKind);
}

export const toBase64 = (bytes: Uint8Array | null | undefined): string | null =>
  bytes ? Buffer.from(bytes).toString('base64') : null;

/** A copy on a plain ArrayBuffer, as Prisma's Bytes fields require. */
export const toBytes = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

/** The same bytes as a Buffer, without a copy (a Uint8Array that structured cloning or a worker handed over). */
export const bufferView = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** A UUID in its canonical text form (any case). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
