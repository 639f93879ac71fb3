import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VerifiedSignatures } from '../../../../src/crypto/signatures/verified-signatures.js';

describe('VerifiedSignatures', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const data = randomBytes(100);
  const signature = sign(null, data, privateKey);

  /** check() through node:crypto's verify, counting the verifications it really ran */
  const counting = (memo: VerifiedSignatures) => {
    let runs = 0;
    const check = (key: Uint8Array, scheme: string, bytes: Buffer, sig: Buffer) =>
      memo.check(key, scheme, bytes, sig, () => {
        runs++;
        try {
          return verify(null, bytes, { key: Buffer.from(key), format: 'der', type: 'spki' }, sig);
        } catch {
          return false;
        }
      });
    return { check, runs: () => runs };
  };

  it('verifies a signature once, and again for any change of key, scheme, data or signature', () => {
    const { check, runs } = counting(new VerifiedSignatures(16));
    expect(check(spki, 'Ed25519', data, signature)).toBe(true);
    expect(check(spki, 'Ed25519', data, signature)).toBe(true);
    expect(runs()).toBe(1);

    const otherSpki = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    const changedData = Buffer.from(data);
    changedData[0]! ^= 1;
    const changedSignature = Buffer.from(signature);
    changedSignature[10]! ^= 1;
    expect(check(otherSpki, 'Ed25519', data, signature)).toBe(false);
    expect(check(spki, 'Ed25519', changedData, signature)).toBe(false);
    expect(check(spki, 'Ed25519', data, changedSignature)).toBe(false);
    expect(check(spki, 'another scheme', data, signature)).toBe(true);
    expect(runs()).toBe(5);
  });

  it('never remembers a failure', () => {
    const { check, runs } = counting(new VerifiedSignatures(16));
    const forged = randomBytes(64);
    expect(check(spki, 'Ed25519', data, forged)).toBe(false);
    expect(check(spki, 'Ed25519', data, forged)).toBe(false);
    expect(runs()).toBe(2);
  });

  it('keeps the boundaries between the parts: moving bytes from the data to the signature is another entry', () => {
    const memo = new VerifiedSignatures(16);
    memo.remember(spki, 'Ed25519', Buffer.from('ab'), Buffer.from('cd'));
    let runs = 0;
    const answer = memo.check(spki, 'Ed25519', Buffer.from('a'), Buffer.from('bcd'), () => {
      runs++;
      return false;
    });
    expect([answer, runs]).toEqual([false, 1]);
  });

  it('answers a signature this process made without verifying it, and forgets the least recently used', () => {
    const memo = new VerifiedSignatures(2);
    const { check, runs } = counting(memo);
    memo.remember(spki, 'Ed25519', data, signature);
    expect(check(spki, 'Ed25519', data, signature)).toBe(true);
    expect(runs()).toBe(0);
    memo.remember(spki, 'Ed25519', randomBytes(8), randomBytes(8));
    memo.remember(spki, 'Ed25519', randomBytes(8), randomBytes(8));
    expect(check(spki, 'Ed25519', data, signature)).toBe(true);
    expect(runs()).toBe(1);
  });
});
