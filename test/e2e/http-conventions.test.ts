import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

const P = 'conventions';
let t: TestContext;
const logLines: string[] = [];

const b64 = (bytes: Buffer) => bytes.toString('base64');
const operate = (url: string, body: object) => t.call(P, ['keyOperation'], { method: 'POST', url, body });

beforeAll(async () => {
  t = await createTestContext({ logLines });
  await t.partition(P);
  const manage = (url: string, body: object) => t.call(P, ['keyManagement'], { method: 'POST', url, body });
  for (const [url, body] of [
    [
      '/v1/key',
      {
        label: 'ed',
        algorithm: 'ED',
        curveOid: '1.3.101.112',
        attributes: { sign: true, decrypt: false, unwrap: false },
      },
    ],
    [
      '/v1/key/import/plain',
      {
        label: 'aes',
        algorithm: 'AES',
        secretKey: b64(randomBytes(32)),
        attributes: { decrypt: true, sign: false, unwrap: false },
      },
    ],
  ] as const) {
    const response = await manage(url, body);
    expect(response.statusCode, response.body).toBe(201);
  }
});
afterAll(() => t.close());

function expectSecurityHeaders(headers: Record<string, unknown>) {
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['cross-origin-resource-policy']).toBe('same-origin');
  expect(headers['x-powered-by']).toBeUndefined();
}

describe('security headers', () => {
  it('every kind of answer carries them, with a CSP that lets a JSON answer load nothing', async () => {
    const answers = [
      await t.app.inject({ method: 'GET', url: '/healthz' }),
      await t.call(P, ['keyManagement'], { method: 'GET', url: '/v1/key' }),
      await t.app.inject({ method: 'GET', url: '/v1/key' }), // 401
      await t.app.inject({ method: 'GET', url: '/v1/no-such-route' }), // 404
      await operate('/v1/synchronousSign', { signRequest: {} }), // 400
    ];
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 401, 404, 400]);
    for (const answer of answers) {
      expectSecurityHeaders(answer.headers);
      expect(answer.headers['content-security-policy']).toContain("default-src 'none'");
      expect(answer.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    }
  });

  it('without TLS there is no Strict-Transport-Security (a TLS proxy in front sends it)', async () => {
    const answer = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(answer.headers['strict-transport-security']).toBeUndefined();
  });

  it('/docs has a CSP that admits the Swagger UI files of this origin and no inline script', async () => {
    for (const url of ['/docs/', '/docs/static/swagger-ui-bundle.js', '/docs/json']) {
      const answer = await t.app.inject({ method: 'GET', url });
      expect(answer.statusCode, url).toBe(200);
      expectSecurityHeaders(answer.headers);
      const csp = String(answer.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
      expect(csp).toContain("connect-src 'self'");
    }
  });
});

describe('Cache-Control: no-store', () => {
  it('is on answers that carry a signature, a decrypted payload, a key view and an error', async () => {
    const sign = await operate('/v1/synchronousSign', {
      signRequest: { payload: b64(Buffer.from('x')), signKeyName: 'ed', signatureAlgorithm: 'EDDSA' },
    });
    expect(sign.statusCode, sign.body).toBe(200);
    const encrypted = await operate('/v1/encrypt', {
      encryptRequest: {
        payload: b64(Buffer.from('secret')),
        encryptKeyName: 'aes',
        cipherAlgorithm: 'AES_GCM',
      },
    });
    expect(encrypted.statusCode, encrypted.body).toBe(200);
    const { encryptedPayload, initializationVector } = encrypted.json();
    const decrypted = await operate('/v1/synchronousDecrypt', {
      decryptRequest: {
        encryptedPayload,
        initializationVector,
        decryptKeyName: 'aes',
        cipherAlgorithm: 'AES_GCM',
      },
    });
    expect(decrypted.statusCode, decrypted.body).toBe(200);
    expect(Buffer.from(decrypted.json().payload, 'base64').toString()).toBe('secret');
    const key = await t.call(P, ['keyManagement'], { method: 'GET', url: '/v1/key/ed/attributes' });
    expect(key.statusCode, key.body).toBe(200);
    const refused = await t.app.inject({ method: 'GET', url: '/v1/key/ed/attributes' });
    expect(refused.statusCode).toBe(401);
    for (const answer of [sign, encrypted, decrypted, key, refused]) {
      expect(answer.headers['cache-control']).toBe('no-store');
    }
  });
});

describe('X-Request-Id', () => {
  it('a sane incoming id is echoed and names the request in the log lines', async () => {
    const id = 'trace-4f1c.2a:proxy/7';
    const answer = await t.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': id } });
    expect(answer.headers['x-request-id']).toBe(id);
    const lines = logLines.map((line) => JSON.parse(line)).filter((line) => line.reqId === id);
    expect(lines.map((line) => line.msg)).toEqual(['incoming request', 'request completed']);
  });

  it('without one, or with one too long or with other characters, a UUID is made and echoed', async () => {
    const ids = [];
    for (const given of [undefined, 'x'.repeat(129), 'two words', 'line\u0085break', '']) {
      const answer = await t.app.inject({
        method: 'GET',
        url: '/healthz',
        ...(given === undefined ? {} : { headers: { 'x-request-id': given } }),
      });
      const id = String(answer.headers['x-request-id']);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      ids.push(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('an error answer echoes the id the caller gave', async () => {
    const answer = await t.app.inject({
      method: 'GET',
      url: '/v1/no-such-route',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(answer.headers['x-request-id']).toBe('abc-123');
  });
});
