import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyMaterialBinding, seal, UnsealError, unseal } from '../../../src/crypto/seal.js';

describe('seal / unseal (AES-256-GCM with binding AAD)', () => {
  const key = randomBytes(32);
  const secret = randomBytes(48);
  const binding = keyMaterialBinding('partition-1', 'key-1');

  it('round-trips and is decryptable by plain node:crypto AES-256-GCM with the documented layout', () => {
    const sealed = seal(key, secret, binding);
    expect(sealed[0]).toBe(1);
    expect(sealed.length).toBe(1 + 12 + 16 + secret.length);
    expect(unseal(key, sealed, binding).equals(secret)).toBe(true);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 13));
    decipher.setAAD(Buffer.from(binding));
    decipher.setAuthTag(sealed.subarray(13, 29));
    expect(Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]).equals(secret)).toBe(true);
  });

  it('uses a fresh IV each time', () => {
    expect(seal(key, secret, binding).equals(seal(key, secret, binding))).toBe(false);
  });

  it.each([
    ['another binding', (s: Buffer) => unseal(key, s, keyMaterialBinding('partition-1', 'key-2'))],
    ['another partition', (s: Buffer) => unseal(key, s, keyMaterialBinding('partition-2', 'key-1'))],
    ['another key', (s: Buffer) => unseal(randomBytes(32), s, binding)],
    [
      'a flipped ciphertext bit',
      (s: Buffer) =>
        unseal(key, Buffer.concat([s.subarray(0, -1), Buffer.of(s[s.length - 1]! ^ 1)]), binding),
    ],
    ['a truncated blob', (s: Buffer) => unseal(key, s.subarray(0, 20), binding)],
    ['an unknown version', (s: Buffer) => unseal(key, Buffer.concat([Buffer.of(2), s.subarray(1)]), binding)],
  ])('refuses %s', (_name, open) => {
    expect(() => open(seal(key, secret, binding))).toThrow(UnsealError);
  });
});
