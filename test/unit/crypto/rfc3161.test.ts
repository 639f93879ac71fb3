import { describe, expect, it } from 'vitest';
import { generalizedTime, timestampHash } from '../../../src/crypto/x509/rfc3161.js';
import { TsbError } from '../../../src/errors.js';

describe('RFC 3161 helpers', () => {
  it.each([
    ['2026-11-29T10:20:30.123Z', '20261129102030.123Z'],
    ['2026-11-29T10:20:30.120Z', '20261129102030.12Z'],
    ['2026-11-29T10:20:30.100Z', '20261129102030.1Z'],
    ['2026-11-29T10:20:30.000Z', '20261129102030Z'],
  ])('writes genTime %s as %s (no trailing zeros, RFC 3161 §2.4.2)', (iso, text) => {
    const encoded = generalizedTime(new Date(iso));
    expect(encoded[0]).toBe(0x18);
    expect(encoded.subarray(2).toString('latin1')).toBe(text);
  });

  it('names the hash algorithms in several spellings, and nothing else', () => {
    expect(timestampHash('SHA-256')).toBe('SHA-256');
    expect(timestampHash('sha384')).toBe('SHA-384');
    expect(timestampHash('SHA_512')).toBe('SHA-512');
    for (const name of ['SHA-1', 'MD5', '', 'SHA-3-256']) {
      expect(() => timestampHash(name)).toThrow(TsbError);
    }
  });
});
