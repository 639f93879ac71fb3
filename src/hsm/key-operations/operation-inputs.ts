/** Checks and decoding of the fields of a key operation request, shared by the operations. */
import type { DerivationStep } from '../../crypto/derivation/key-derivation.js';
import { TsbError } from '../../errors.js';
import { decodeBase64 } from '../../lib/encoding.js';

/** The largest payload one operation takes, as on the HSM (reference §2.3: about 64 KB per request). */
export const MAX_PAYLOAD_BYTES = 65_536;

export function payloadOf(value: string, field: string): Buffer {
  const bytes = decodeBase64(value, field, 'INVALID_PAYLOAD');
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new TsbError('INVALID_PAYLOAD', `${field} is larger than ${MAX_PAYLOAD_BYTES} bytes`);
  }
  return bytes;
}

export const binary = (value: string, field: string): Buffer =>
  decodeBase64(value, field, 'INPUT_VALIDATION_FAILED');

export function optionalBinary(value: string | null | undefined, field: string): Buffer | null {
  return value === null || value === undefined || value === '' ? null : binary(value, field);
}

export const base64OrNull = (bytes: Buffer | null): string | null =>
  bytes ? bytes.toString('base64') : null;

export function refuseKeyObject(keyObject: unknown): void {
  if (keyObject !== undefined && keyObject !== null) {
    throw new TsbError(
      'UNSUPPORTED_OPERATION',
      'signKeyObject (external key store) is not supported by OpenTSB',
    );
  }
}

export function refuseDerivationFor(path: DerivationStep[] | null, what: string): void {
  if (path && path.length > 0) {
    throw new TsbError(
      'DERIVATION_NOT_SUPPORTED',
      `derived keys (a path after the label) are not available for ${what}`,
    );
  }
}
