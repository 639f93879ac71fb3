import { createHmac, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { openssl, withScratch } from '../helpers/openssl.js';

let t: TestContext;
const P = 'mac';
const macKey = randomBytes(32);
const longMacKey = randomBytes(100); // longer than the SHA-256 block: HMAC hashes it first

const b64 = (bytes: Buffer) => bytes.toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64');
const nodeHmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

const operate = (url: string, body: object) => t.call(P, ['keyOperation'], { method: 'POST', url, body });
const hmac = (keyName: string, payload: Buffer) =>
  operate('/v1/synchronousHmac', { hmacRequest: { keyName, payload: b64(payload) } });
const verifyHmac = (keyName: string, payload: Buffer, signature: Buffer) =>
  operate('/v1/verify', {
    verifyHmacRequest: { keyName, payload: b64(payload), signature: b64(signature) },
  });

async function importSecret(label: string, algorithm: string, secret: Buffer, attributes: object) {
  const response = await t.call(P, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key/import/plain',
    body: { label, algorithm, secretKey: b64(secret), attributes },
  });
  expect(response.statusCode, response.body).toBe(201);
}

/** `openssl dgst -sha256 -mac HMAC -macopt hexkey:…` of the data, as bytes. */
async function opensslHmac(key: Buffer, data: Buffer): Promise<Buffer> {
  return withScratch(async (dir) => {
    await writeFile(path.join(dir, 'data'), data);
    const out = await openssl(
      ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${key.toString('hex')}`, 'data'],
      dir,
    );
    const hex = /= ?([0-9a-f]{64})\s*$/.exec(out.trim())?.[1];
    expect(hex, out).toBeDefined();
    return Buffer.from(hex!, 'hex');
  });
}

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  const macUse = { decrypt: false, sign: true, unwrap: false };
  await importSecret('hmac', 'HMACSHA256', macKey, macUse);
  await importSecret('hmac-long', 'HMACSHA256', longMacKey, macUse);
  await importSecret('aes', 'AES', randomBytes(32), { decrypt: true, sign: false, unwrap: false });
});
afterAll(() => t.close());

describe('POST /v1/synchronousHmac', () => {
  it('equals node:crypto HMAC-SHA256 and openssl dgst -mac HMAC under the imported key', async () => {
    const payload = randomBytes(1000);
    const response = await hmac('hmac', payload);
    expect(response.statusCode, response.body).toBe(200);
    const keyedHash = unb64(response.json().keyedHash);
    expect(keyedHash.length).toBe(32);
    expect(keyedHash.equals(nodeHmac(macKey, payload))).toBe(true);
    expect(keyedHash.equals(await opensslHmac(macKey, payload))).toBe(true);
  });

  it('handles an empty payload and a key longer than the hash block', async () => {
    const empty = await hmac('hmac', Buffer.alloc(0));
    expect(empty.statusCode, empty.body).toBe(200);
    expect(empty.json().keyedHash).toBe(b64(nodeHmac(macKey, Buffer.alloc(0))));

    const payload = Buffer.from('The quick brown fox');
    const long = await hmac('hmac-long', payload);
    expect(long.statusCode, long.body).toBe(200);
    expect(unb64(long.json().keyedHash).equals(await opensslHmac(longMacKey, payload))).toBe(true);
  });

  it('refuses an AES key with a 4xx TSB error (403 / 614: AES keys never have the sign attribute)', async () => {
    const response = await hmac('aes', Buffer.from('data'));
    expect(response.statusCode, response.body).toBe(403);
    expect(response.json().errorCode).toBe(614);
  });

  it('refuses a payload over 65,536 bytes with 400 / 612', async () => {
    const response = await hmac('hmac', randomBytes(65_537));
    expect(response.statusCode).toBe(400);
    expect(response.json().errorCode).toBe(612);
  });
});

describe('POST /v1/verify with verifyHmacRequest', () => {
  const payload = randomBytes(77);

  it('is true for the right MAC and false for a wrong one', async () => {
    const right = nodeHmac(macKey, payload);
    const valid = await verifyHmac('hmac', payload, right);
    expect(valid.statusCode, valid.body).toBe(200);
    expect(valid.json()).toEqual({ signatureValid: true });

    const wrong = Buffer.from(right);
    wrong[0]! ^= 0x01;
    expect((await verifyHmac('hmac', payload, wrong)).json()).toEqual({ signatureValid: false });
    // the right MAC over other data, a truncated MAC and a MAC under another key are all false
    expect((await verifyHmac('hmac', Buffer.from('other'), right)).json()).toEqual({ signatureValid: false });
    expect((await verifyHmac('hmac', payload, right.subarray(0, 16))).json()).toEqual({
      signatureValid: false,
    });
    expect((await verifyHmac('hmac-long', payload, right)).json()).toEqual({ signatureValid: false });
  });

  it('accepts the keyedHash of /v1/synchronousHmac', async () => {
    const mac = (await hmac('hmac-long', payload)).json().keyedHash;
    const response = await operate('/v1/verify', {
      verifyHmacRequest: { keyName: 'hmac-long', payload: b64(payload), signature: mac },
    });
    expect(response.json()).toEqual({ signatureValid: true });
  });

  it('refuses an AES key with 403 / 614', async () => {
    const response = await verifyHmac('aes', payload, randomBytes(32));
    expect(response.statusCode, response.body).toBe(403);
    expect(response.json().errorCode).toBe(614);
  });

  it('refuses a body with both verifySignatureRequest and verifyHmacRequest, or neither: 400 / 600', async () => {
    const both = await operate('/v1/verify', {
      verifySignatureRequest: {
        signKeyName: 'hmac',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
        payload: b64(payload),
        signature: b64(randomBytes(64)),
      },
      verifyHmacRequest: {
        keyName: 'hmac',
        payload: b64(payload),
        signature: b64(nodeHmac(macKey, payload)),
      },
    });
    expect(both.statusCode, both.body).toBe(400);
    expect(both.json().errorCode).toBe(600);

    const neither = await operate('/v1/verify', {});
    expect(neither.statusCode, neither.body).toBe(400);
    expect(neither.json().errorCode).toBe(600);
  });
});
