/** Checks and decoding of the fields of a key operation request, shared by the operations. */
import type { DerivationStep } from '../../crypto/derivation/key-derivation.js';
import { TsbError } from '../../errors.js';
import { decodeBase64 } from '../../lib/encoding.js';

/** The largest payload one operation takes, as on the HSM (reference §2.3: about 64 KB per request). */
export const MAX_PAYLOAD_BYTES = 65_536;

export function payloadOf(value: string, field: string): Buffer {
  return withinLimit(decodeBase64(value, field, 'INVALID_PAYLOAD'), field);
}

function withinLimit(bytes: Buffer, field: string): Buffer {
  if (bytes.length > MAX_PAYLOAD_BYTES) {
    throw new TsbError('INVALID_PAYLOAD', `${field} is larger than ${MAX_PAYLOAD_BYTES} bytes`);
  }
  return bytes;
}

const HEX_TEXT = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * The bytes a sign or verify request means. `payloadType` HEX carries them as hex text (the Fireblocks
 * agent sends its digests so); every other type (UNSPECIFIED, ISO_20022, PDF, BTC, ETH) only tells
 * approvers how to show the payload, which is base64 as every binary field. A hex digest is often valid
 * base64 too, so decoding it as base64 would sign other bytes without an error.
 */
export function signPayloadOf(value: string, payloadType: string | null | undefined, field: string): Buffer {
  if (typeof payloadType !== 'string' || payloadType.trim().toUpperCase() !== 'HEX') {
    return payloadOf(value, field);
  }
  if (typeof value !== 'string' || !HEX_TEXT.test(value)) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `${field} is not hex text (payloadType HEX: an even number of the digits 0-9, a-f)`,
    );
  }
  return withinLimit(Buffer.from(value, 'hex'), field);
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
