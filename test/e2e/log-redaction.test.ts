import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

const logLines: string[] = [];
let t: TestContext;

beforeAll(async () => {
  t = await createTestContext({ logLines });
  await t.partition('logged', { allowKeyExport: true });
});
afterAll(() => t.close());

describe('logs at trace level', () => {
  it('never contain key material, passwords, tokens or API keys, even on errors', async () => {
    const headers = await t.as('logged', ['keyManagement']);
    const secret = randomBytes(32);
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
    const password = 'correct-horse-battery-staple';
    const apiKey = 'tsb-x-token_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

    const requests = [
      {
        url: '/v1/key/import/plain',
        body: {
          label: 's',
          algorithm: 'AES',
          password,
          secretKey: secret.toString('base64'),
          attributes: { decrypt: true, sign: false, unwrap: false, extractable: true, sensitive: false },
        },
      },
      {
        url: '/v1/key/import/plain',
        body: {
          label: 'p',
          algorithm: 'EC',
          privateKey: privateKey.toString('base64'),
          attributes: { decrypt: false, sign: true, unwrap: false },
        },
      },
      { url: '/v1/key/export/plain', body: { label: 's', password } },
      { url: '/v1/key/attributes', body: { label: 's', password: `${password}-wrong` } },
      // a duplicate import: an error path that carries a private key
      {
        url: '/v1/key/import/plain',
        body: {
          label: 'p',
          algorithm: 'EC',
          privateKey: privateKey.toString('base64'),
          attributes: { decrypt: false, sign: true, unwrap: false },
        },
      },
    ];
    for (const { url, body } of requests) {
      await t.app.inject({ method: 'POST', url, headers, payload: body });
    }
    await t.app.inject({ method: 'GET', url: '/v1/key', headers: { 'x-api-key': apiKey } });

    const log = logLines.join('');
    expect(log).toContain('"reqId"'); // requests were logged at all
    const token = headers.authorization!.slice('Bearer '.length);
    const forbidden = [
      secret.toString('base64'),
      secret.toString('hex'),
      privateKey.toString('base64'),
      privateKey.toString('base64').slice(-40),
      privateKey.toString('hex'),
      password,
      token,
      apiKey,
    ];
    for (const value of forbidden) {
      expect(log.includes(value), `log contains ${value.slice(0, 12)}…`).toBe(false);
    }
  });
});
