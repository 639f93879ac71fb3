/**
 * `POST /v1/fileEncrypt` as tsb/Tutorials/Encryption/FileEncryption.md calls it: the docs' key
 * (fixture 37, EC P-384 with derive) and the docs' curl request, a multipart body with the JSON part
 * `SignedFileEncryptRequestDto` (fixture 38) and the part `file`, answered with the cryptogram as
 * octet-stream. The cryptogram is opened here with node:crypto alone (ECDH, X9.63 KDF, HMAC, AES-CBC).
 */
import {
  createDecipheriv,
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

let t: TestContext;
const P = 'file-encrypt';
const BOUNDARY = '------------------------8f2b5c0d1e6a4b37';

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
});
afterAll(() => t.close());

const fixture = async (name: string, label: string) =>
  JSON.parse(
    (await readFile(new URL(`../fixtures/tsb-examples/${name}`, import.meta.url), 'utf8')).replaceAll(
      '<keyname>',
      label,
    ),
  );

/** The body curl builds for `--form 'SignedFileEncryptRequestDto=…' --form 'file=@name'`. */
function curlForm(requestJson: string, file: Buffer, filename = 'secret.txt', requestType?: string): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="SignedFileEncryptRequestDto"\r\n` +
        (requestType ? `Content-Type: ${requestType}\r\n` : '') +
        `\r\n${requestJson}\r\n` +
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
        'Content-Type: text/plain\r\n\r\n',
    ),
    file,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}

async function fileEncrypt(payload: Buffer, roles: ('keyOperation' | 'keyManagement')[] = ['keyOperation']) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/fileEncrypt',
    headers: {
      ...(await t.as(P, roles)),
      accept: 'application/octet-stream',
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
    },
    payload,
  });
}

const createKey = (body: object) => t.call(P, ['keyManagement'], { method: 'POST', url: '/v1/key', body });

/** Opens R ‖ C ‖ T with the recipient's private key: SEC 1 ECIES, X9.63-SHA-256, AES-256-CBC (zero IV), HMAC-SHA-256. */
function openCryptogram(privateKey: KeyObject, cryptogram: Buffer, coordinateBytes: number): Buffer {
  const pointLength = 1 + 2 * coordinateBytes;
  const point = cryptogram.subarray(0, pointLength);
  expect(point[0]).toBe(0x04);
  const ephemeral = createPublicKey({
    key: {
      kty: 'EC',
      crv: privateKey.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256',
      x: point.subarray(1, 1 + coordinateBytes).toString('base64url'),
      y: point.subarray(1 + coordinateBytes).toString('base64url'),
    },
    format: 'jwk',
  });
  const z = diffieHellman({ privateKey, publicKey: ephemeral });
  const block = (counter: number) =>
    createHash('sha256')
      .update(z)
      .update(Buffer.of(0, 0, 0, counter))
      .digest();
  const keys = Buffer.concat([block(1), block(2)]);
  const ciphertext = cryptogram.subarray(pointLength, cryptogram.length - 32);
  const tag = cryptogram.subarray(cryptogram.length - 32);
  const expected = createHmac('sha256', keys.subarray(32, 64)).update(ciphertext).digest();
  expect(timingSafeEqual(tag, expected)).toBe(true);
  const decipher = createDecipheriv('aes-256-cbc', keys.subarray(0, 32), Buffer.alloc(16));
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

describe('POST /v1/fileEncrypt (tsb/Tutorials/Encryption/FileEncryption.md)', () => {
  it('encrypts the docs’ request to the docs’ key: octet-stream, an ephemeral P-384 point, AES-CBC blocks and a 32-byte tag', async () => {
    const created = await createKey(await fixture('37-create-ecies-key-request.json', 'ecies-docs'));
    expect(created.statusCode, created.body).toBe(201);
    const request = await readFile(
      new URL('../fixtures/tsb-examples/38-file-encrypt-request-part.json', import.meta.url),
      'utf8',
    );
    const file = Buffer.from('sensitive content of a CI pipeline\n');
    const response = await fileEncrypt(curlForm(request.replace('<keyname>', 'ecies-docs'), file));
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    const cryptogram = response.rawPayload;
    expect(cryptogram[0]).toBe(0x04);
    expect(cryptogram.length).toBe(97 + 48 + 32);
  });

  it('node:crypto opens the cryptogram with the private key of the imported recipient key', async () => {
    const recipient = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const imported = await t.call(P, ['keyManagement'], {
      method: 'POST',
      url: '/v1/key/import/plain',
      body: {
        label: 'ecies-own',
        algorithm: 'EC',
        privateKey: recipient.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
        publicKey: recipient.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
        attributes: { decrypt: true, sign: false, unwrap: false, derive: true },
      },
    });
    expect(imported.statusCode, imported.body).toBe(201);
    for (const file of [Buffer.alloc(0), randomBytes(16), randomBytes(70_001)]) {
      // a Swagger-style JSON part (with its Content-Type) works as curl's plain one
      const body = curlForm(
        JSON.stringify({ fileEncryptRequest: { encryptKeyName: 'ecies-own' } }),
        file,
        'data.bin',
        'application/json',
      );
      const first = await fileEncrypt(body);
      expect(first.statusCode, first.body).toBe(200);
      expect(openCryptogram(recipient.privateKey, first.rawPayload, 48).equals(file)).toBe(true);
      // a fresh ephemeral key every time
      const second = await fileEncrypt(body);
      expect(second.rawPayload.subarray(0, 97).equals(first.rawPayload.subarray(0, 97))).toBe(false);
    }
    // the tag covers the ciphertext
    const response = await fileEncrypt(
      curlForm('{"fileEncryptRequest":{"encryptKeyName":"ecies-own"}}', randomBytes(40)),
    );
    const tampered = Buffer.from(response.rawPayload);
    tampered[100]! ^= 1;
    expect(() => openCryptogram(recipient.privateKey, tampered, 48)).toThrow();
  });

  it('refuses bodies and keys that do not fit, with the TSB error codes', async () => {
    await createKey({
      label: 'ecies-rsa',
      algorithm: 'RSA',
      keySize: 2048,
      attributes: { decrypt: true, sign: false, unwrap: false },
    });
    await createKey({
      label: 'ecies-noderive',
      algorithm: 'EC',
      curveOid: '1.3.132.0.34',
      attributes: { decrypt: true, sign: false, unwrap: false },
    });
    const request = (name: string) => JSON.stringify({ fileEncryptRequest: { encryptKeyName: name } });
    const file = Buffer.from('x');
    const cases: [Buffer, number, number][] = [
      [curlForm(request('ecies-rsa'), file), 400, 607],
      [curlForm(request('ecies-noderive'), file), 403, 614],
      [curlForm(request('missing'), file), 404, 650],
      [curlForm('{"fileEncryptRequest":{}}', file), 400, 600],
      [curlForm('not json', file), 400, 600],
      [
        Buffer.from(
          `--${BOUNDARY}\r\nContent-Disposition: form-data; name="SignedFileEncryptRequestDto"\r\n\r\n${request('ecies-own')}\r\n--${BOUNDARY}--\r\n`,
        ),
        400,
        600,
      ],
      [Buffer.from('no multipart framing at all'), 400, 600],
    ];
    for (const [payload, status, errorCode] of cases) {
      const response = await fileEncrypt(payload);
      expect(response.statusCode, response.body).toBe(status);
      expect(response.json().errorCode, response.body).toBe(errorCode);
    }
    const json = await t.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/fileEncrypt',
      body: { fileEncryptRequest: { encryptKeyName: 'ecies-own' } },
    });
    expect(json.statusCode).toBe(400);
    expect((await fileEncrypt(curlForm(request('ecies-own'), file), ['keyManagement'])).statusCode).toBe(403);
  });
});
