import { createSecretKey, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hmac, verifyHmac } from '../../../../src/crypto/macs/hmac-sha256.js';
import { importKey, loadPrivate, type ReadyKey } from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import { openssl, withScratch } from '../../../helpers/openssl.js';
import { tsbErrorOf } from '../helpers.js';

const hmacKey = (bytes: Buffer): ReadyKey =>
  loadPrivate(importKey({ algorithm: 'HMACSHA256', secretKey: bytes }));

describe('HMAC-SHA-256', () => {
  it('RFC 4231 test case 2 ("Jefe"; the key is below our 128-bit minimum, so it is used unimported)', () => {
    // HMAC keys of the store are at least 16 bytes; test case 2 uses a 4-byte key
    const key: ReadyKey = {
      kind: 'secret',
      algorithm: 'HMACSHA256',
      key: createSecretKey(Buffer.from('Jefe')),
    };
    const mac = hmac(key, Buffer.from('what do ya want for nothing?'));
    expect(mac.toString('hex')).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(verifyHmac(key, Buffer.from('what do ya want for nothing?'), mac)).toBe(true);
  });

  it('RFC 4231 test case 6 (131-byte key, larger than the block)', () => {
    const key = hmacKey(Buffer.alloc(131, 0xaa));
    const mac = hmac(key, Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'));
    expect(mac.toString('hex')).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
  });

  it('matches openssl dgst -mac HMAC', async () => {
    const secret = randomBytes(32);
    const payload = randomBytes(100);
    const out = await withScratch(async (dir) => {
      await writeFile(path.join(dir, 'in'), payload);
      return openssl(
        ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${secret.toString('hex')}`, '-r', 'in'],
        dir,
      );
    });
    expect(out.split(' ')[0]).toBe(hmac(hmacKey(secret), payload).toString('hex'));
  });

  it('verifyHmac refuses a wrong or truncated MAC', () => {
    const key = hmacKey(randomBytes(32));
    const payload = Buffer.from('payload');
    const mac = hmac(key, payload);
    const wrong = Buffer.from(mac);
    wrong[0]! ^= 1;
    expect(verifyHmac(key, payload, wrong)).toBe(false);
    expect(verifyHmac(key, payload, mac.subarray(0, 16))).toBe(false);
    expect(verifyHmac(key, Buffer.from('other'), mac)).toBe(false);
  });

  it('other keys are ALGORITHM_NOT_SUPPORTED_BY_KEY (607)', () => {
    const aes = loadPrivate(importKey({ algorithm: 'AES', secretKey: randomBytes(32) }));
    expect(tsbErrorOf(() => hmac(aes, Buffer.from('x'))).errorCode).toBe(607);
    expect(tsbErrorOf(() => verifyHmac(aes, Buffer.from('x'), Buffer.alloc(32))).errorCode).toBe(607);
  });
});
