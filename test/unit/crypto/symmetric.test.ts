import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SYMMETRIC_OIDS } from '../../../src/crypto/algorithms.js';
import {
  exportPrivateKey,
  generateKey,
  loadPrivate,
  publicKeyOf,
} from '../../../src/crypto/mechanisms/key-mechanisms.js';
import { setDesParity } from '../../../src/crypto/mechanisms/symmetric.js';
import { tsbErrorOf, tsbErrorOfAsync } from './helpers.js';

const oddParity = (byte: number) => {
  let ones = 0;
  for (let bit = 0; bit < 8; bit++) ones += (byte >> bit) & 1;
  return ones % 2 === 1;
};

describe('secret key generation', () => {
  it.each([
    ['AES', 128, 'aes-128-cbc'],
    ['AES', 192, 'aes-192-cbc'],
    ['AES', 256, 'aes-256-cbc'],
    ['Camellia', 128, 'camellia-128-cbc'],
    ['Camellia', 192, 'camellia-192-cbc'],
    ['Camellia', 256, 'camellia-256-cbc'],
    ['TDEA', 128, 'des-ede-cbc'],
    ['TDEA', 192, 'des-ede3-cbc'],
  ] as const)('generates %s-%i keys usable with node %s', async (algorithm, keySize, cipher) => {
    const material = await generateKey({ algorithm, keySize });
    expect(material).toMatchObject({
      algorithm,
      keySize,
      algorithmOid: SYMMETRIC_OIDS[algorithm],
      curveOid: null,
      publicKey: null,
    });
    expect(material.secret).toHaveLength(keySize / 8);
    const ready = loadPrivate(material);
    if (ready.kind !== 'secret') throw new Error('expected a secret key');
    const iv = randomBytes(algorithm === 'TDEA' ? 8 : 16);
    const plain = Buffer.from('sixteen byte msg');
    const c = createCipheriv(cipher, ready.key, iv);
    const ct = Buffer.concat([c.update(plain), c.final()]);
    const d = createDecipheriv(cipher, ready.key, iv);
    expect(Buffer.concat([d.update(ct), d.final()]).equals(plain)).toBe(true);
    expect(exportPrivateKey(material)).toEqual({ secretKey: material.secret });
  });

  it('generates ChaCha20 keys (256 bits only) usable with chacha20-poly1305', async () => {
    const material = await generateKey({ algorithm: 'ChaCha20' });
    expect(material.keySize).toBe(256);
    const ready = loadPrivate(material);
    if (ready.kind !== 'secret') throw new Error('expected a secret key');
    const cipher = createCipheriv('chacha20-poly1305', ready.key, randomBytes(12), { authTagLength: 16 });
    cipher.update('x');
    cipher.final();
    expect(cipher.getAuthTag()).toHaveLength(16);
    expect(
      (await tsbErrorOfAsync(() => generateKey({ algorithm: 'ChaCha20', keySize: 128 }))).errorCode,
    ).toBe(603);
  });

  it('generates HMAC-SHA256 keys from 128 to 4096 bits in whole bytes, 256 by default', async () => {
    expect((await generateKey({ algorithm: 'HMACSHA256' })).keySize).toBe(256);
    for (const keySize of [128, 264, 4096]) {
      const material = await generateKey({ algorithm: 'HMACSHA256', keySize });
      expect(material.secret).toHaveLength(keySize / 8);
      const ready = loadPrivate(material);
      if (ready.kind !== 'secret') throw new Error('expected a secret key');
      expect(createHmac('sha256', ready.key).update('m').digest()).toHaveLength(32);
    }
    for (const keySize of [120, 130, 4104]) {
      expect((await tsbErrorOfAsync(() => generateKey({ algorithm: 'HMACSHA256', keySize }))).errorCode).toBe(
        603,
      );
    }
  });

  it('refuses AES sizes not offered (INPUT_KEYSIZE) and curves on secret keys', async () => {
    expect((await tsbErrorOfAsync(() => generateKey({ algorithm: 'AES', keySize: 100 }))).errorCode).toBe(
      603,
    );
    expect((await tsbErrorOfAsync(() => generateKey({ algorithm: 'AES', keySize: 512 }))).errorCode).toBe(
      603,
    );
    expect(
      (await tsbErrorOfAsync(() => generateKey({ algorithm: 'AES', curveOid: '1.3.132.0.10' }))).errorCode,
    ).toBe(600);
  });

  it('sets the DES parity bits of TDEA keys', async () => {
    for (let i = 0; i < 10; i++) {
      const material = await generateKey({ algorithm: 'TDEA', keySize: 192 });
      expect([...material.secret!].every(oddParity)).toBe(true);
    }
    expect([...setDesParity(Buffer.from([0, 1, 2, 3, 0xfe, 0xff]))]).toEqual([1, 1, 2, 2, 0xfe, 0xfe]);
  });

  it('secret keys have no public key', async () => {
    const material = await generateKey({ algorithm: 'AES' });
    expect(tsbErrorOf(() => publicKeyOf(material)).errorCode).toBe(613);
  });

  it('the ready key is independent of the material buffer (which the key store wipes)', async () => {
    const material = await generateKey({ algorithm: 'AES', keySize: 128 });
    const copy = Buffer.from(material.secret!);
    const ready = loadPrivate(material);
    material.secret!.fill(0);
    if (ready.kind !== 'secret') throw new Error('expected a secret key');
    expect(ready.key.export().equals(copy)).toBe(true);
  });
});
