/**
 * HMAC-SHA-256 (RFC 2104 / FIPS 198-1) with an HMACSHA256 key, on node:crypto: the `hmac` and
 * `verifyHmac` operations of reference §2.3. Any other key is ALGORITHM_NOT_SUPPORTED_BY_KEY.
 */
import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';
import { TsbError } from '../../errors.js';
import type { ReadyKey } from '../mechanisms/key-material.js';

const MAC_BYTES = 32;

function hmacKeyOf(key: ReadyKey): KeyObject {
  if (key.kind === 'secret' && key.algorithm === 'HMACSHA256') return key.key;
  throw new TsbError(
    'ALGORITHM_NOT_SUPPORTED_BY_KEY',
    `HMAC-SHA256 needs an HMACSHA256 key, not a ${key.algorithm} key`,
  );
}

/** The 32-byte HMAC-SHA-256 of the payload. */
export function hmac(key: ReadyKey, payload: Buffer): Buffer {
  return createHmac('sha256', hmacKeyOf(key)).update(payload).digest();
}

/** Whether `mac` is the HMAC-SHA-256 of the payload (constant-time comparison; other lengths are false). */
export function verifyHmac(key: ReadyKey, payload: Buffer, mac: Buffer): boolean {
  const expected = hmac(key, payload);
  if (mac.length !== MAC_BYTES) return false;
  return timingSafeEqual(expected, mac);
}
