/**
 * The success status codes real clients check exactly (docs/tsb-deviations.md, "Success status codes"):
 * tsb-client-go's wrap test wants 200 for /v1/wrap and 201 for /v1/synchronousUnwrap; the Fireblocks agent
 * wants 201 for POST /v1/key and 200 for DELETE /v1/key/{label}, GET /v1/request/{id} and /v1/licenseInfo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

const P = 'status-codes';
let t: TestContext;
let headers: Record<string, string>;

/** tsb-client-go's testKeyAttributes(): extractable, so it sends "policy": null */
const GO_ATTRIBUTES = {
  decrypt: true,
  encrypt: true,
  extractable: true,
  sign: true,
  unwrap: true,
  verify: true,
  wrap: true,
  destroyable: true,
};

beforeAll(async () => {
  t = await createTestContext();
  // wrapping is an export: the partition allows it, as a TSB partition the suite runs against does
  await t.partition(P, { allowKeyExport: true });
  headers = {
    ...(await t.as(P, ['keyManagement', 'keyOperation', 'service'])),
    'content-type': 'application/json',
  };
});
afterAll(() => t?.close());

const send = (method: 'POST' | 'GET' | 'DELETE', url: string, payload?: string) =>
  t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });

/** tsb-client-go CreateOrUpdateKey for a symmetric key (no curve, no password). */
const createGoKey = (label: string, algorithm: string, keySize: number) =>
  send(
    'POST',
    '/v1/key',
    `{\n\t"label": "${label}",\n    "algorithm": "${algorithm}",\t\n    \n\t"keySize": ${keySize},\n\t\n\t"attributes": ${JSON.stringify(GO_ATTRIBUTES)},"policy":null}`,
  );

describe('tsb-client-go TestCreateWrapUnwrapAndDeleteKeysWithTSB (AES_WRAP)', () => {
  it('wrap answers 200, synchronousUnwrap 201, and the unwrapped key is there', async () => {
    expect((await createGoKey('go-client-test-wrap-key-00', 'AES', 256)).statusCode).toBe(201);
    expect((await createGoKey('go-client-test-wrap-src-00', 'AES', 256)).statusCode).toBe(201);

    const wrapped = await send(
      'POST',
      '/v1/wrap',
      JSON.stringify({
        wrapKeyRequest: {
          keyToBeWrapped: 'go-client-test-wrap-src-00',
          wrapKeyName: 'go-client-test-wrap-key-00',
          wrapMethod: 'AES_WRAP',
        },
      }),
    );
    expect(wrapped.statusCode, wrapped.body).toBe(200);
    const wrappedKey = wrapped.json().wrappedKey;

    const unwrapped = await send(
      'POST',
      '/v1/synchronousUnwrap',
      `{\n\t\t"unwrapKeyRequest": {\n\t\t"wrappedKey": "${wrappedKey}",\n\t\t"label": "go-client-test-wrap-dst-00",\n\t\t"unwrapKeyName": "go-client-test-wrap-key-00",\n\t\t\n\t\t"wrapMethod": "AES_WRAP",\n\t\t"attributes": ${JSON.stringify(GO_ATTRIBUTES)},"policy":null\n\t\t}}`,
    );
    expect(unwrapped.statusCode, unwrapped.body).toBe(201);

    const key = await send('POST', '/v1/key/attributes', '{"label": "go-client-test-wrap-dst-00"}');
    expect(key.statusCode).toBe(200);
    expect(key.json().json.algorithm).toBe('AES');
  });
});

describe('Fireblocks agent (TsbService.java)', () => {
  it('POST /v1/key 201, GET /v1/licenseInfo 200, DELETE /v1/key/{label} 200', async () => {
    const created = await send(
      'POST',
      '/v1/key',
      JSON.stringify({
        label: 'fb-key',
        algorithm: 'EC',
        curveOid: '1.3.132.0.10',
        attributes: { decrypt: true, sign: true, wrap: false, unwrap: false, destroyable: true },
      }),
    );
    expect(created.statusCode, created.body).toBe(201);
    expect((await send('GET', '/v1/licenseInfo')).statusCode).toBe(200);
    expect((await send('DELETE', '/v1/key/fb-key')).statusCode).toBe(200);
  });
});
