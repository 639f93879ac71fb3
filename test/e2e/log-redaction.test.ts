import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_REDACTION } from '../../src/observability/log-redaction.js';
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

  it('never contain a secret field of the wire format, on error paths of every operation', async () => {
    const headers = await t.as('logged', ['keyOperation']);
    const secret = (name: string) => `${name}-${randomBytes(12).toString('hex')}`;
    const values = {
      keyPassword: secret('keyPassword'),
      masterKeyPassword: secret('masterKeyPassword'),
      newPassword: secret('newPassword'),
      wrapKeyPassword: secret('wrapKeyPassword'),
      unwrapKeyPassword: secret('unwrapKeyPassword'),
      keyToBeWrappedPassword: secret('keyToBeWrappedPassword'),
      payload: randomBytes(24).toString('base64'),
      wrappedKey: randomBytes(40).toString('base64'),
    };
    const requests = [
      {
        url: '/v1/synchronousSign',
        body: {
          signRequest: {
            payload: values.payload,
            signKeyName: 'p',
            keyPassword: values.keyPassword,
            signatureAlgorithm: 'SHA256_WITH_ECDSA',
          },
        },
      },
      {
        url: '/v1/verify',
        body: {
          verifySignatureRequest: {
            payload: values.payload,
            signKeyName: 'p',
            masterKeyPassword: values.masterKeyPassword,
            signatureAlgorithm: 'SHA256_WITH_ECDSA',
            signature: 'AAAA',
          },
        },
      },
      {
        url: '/v1/encrypt',
        body: {
          encryptRequest: {
            payload: values.payload,
            encryptKeyName: 's',
            keyPassword: values.keyPassword,
            cipherAlgorithm: 'AES_GCM',
          },
        },
      },
      {
        url: '/v1/wrap',
        body: {
          wrapKeyRequest: {
            keyToBeWrapped: 's',
            keyToBeWrappedPassword: values.keyToBeWrappedPassword,
            wrapKeyName: 'p',
            wrapKeyPassword: values.wrapKeyPassword,
            wrapMethod: 'AES_WRAP',
          },
        },
      },
      {
        url: '/v1/synchronousUnwrap',
        body: {
          unwrapKeyRequest: {
            wrappedKey: values.wrappedKey,
            label: 'u',
            algorithm: 'AES',
            unwrapKeyName: 's',
            unwrapKeyPassword: values.unwrapKeyPassword,
            wrapMethod: 'AES_WRAP',
            attributes: { decrypt: true, sign: false, unwrap: false },
          },
        },
      },
    ];
    for (const { url, body } of requests) {
      const response = await t.app.inject({ method: 'POST', url, headers, payload: body });
      expect(response.statusCode, `${url}: ${response.body}`).toBeGreaterThanOrEqual(400);
    }
    const changed = await t.app.inject({
      method: 'POST',
      url: '/v1/key/changePassword',
      headers: await t.as('logged', ['keyManagement']),
      payload: { label: 'no-such-key', password: values.keyPassword, newPassword: values.newPassword },
    });
    expect(changed.statusCode).toBe(404);
    const log = logLines.join('');
    for (const [name, value] of Object.entries(values)) {
      expect(log.includes(value), `log contains ${name}`).toBe(false);
    }
  });

  it('censor secret fields that a log call or an error carries, at any depth', async () => {
    const lines: string[] = [];
    const secrets = Array.from({ length: 8 }, (_, i) => `secret-${i}-${randomBytes(8).toString('hex')}`);
    const cause = Object.assign(new Error('driver failed'), { meta: { privateKey: secrets[0] } });
    const error = Object.assign(new Error('unexpected', { cause }), {
      keyPassword: secrets[1],
      meta: { query: { data: { materialSealed: secrets[2], label: 'kept-label' } } },
    });
    const body = {
      decryptRequest: { keyPassword: secrets[3], encryptedPayload: 'kept-ciphertext' },
      unwrapKeyRequest: { unwrapKeyPassword: secrets[4] },
    };
    const sink = {
      write: (line: string) => {
        lines.push(line);
      },
    };
    // the API's logger (the error handler logs request.log.error({ err })) and the worker's configuration
    const logs = [t.app.log.child({ reqId: 'r-1' }), pino({ level: 'trace', ...LOG_REDACTION }, sink)];
    for (const log of logs) {
      log.error({ err: error }, 'unexpected error');
      log.warn({ body, secretKey: secrets[5], nested: [{ 'x-api-key': secrets[6] }] }, 'with a body');
      log.trace({ error, request: { password: secrets[7] } }, 'an error under another name');
    }
    const output = `${logLines.join('')}${lines.join('')}`;
    for (const value of secrets) expect(output.includes(value), value.slice(0, 8)).toBe(false);
    // what is not secret stays readable: messages, causes, stacks, ids and labels
    for (const kept of [
      'unexpected',
      'driver failed',
      'kept-label',
      'kept-ciphertext',
      'log-redaction.test',
    ]) {
      expect(lines.join('').includes(kept), kept).toBe(true);
    }
    expect(lines.join('')).toContain('"keyPassword":"[redacted]"');
    // logging censors a copy: the error and the body are unchanged
    expect(error.keyPassword).toBe(secrets[1]);
    expect(body.decryptRequest.keyPassword).toBe(secrets[3]);
  });
});
