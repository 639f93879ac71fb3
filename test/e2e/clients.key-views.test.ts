/**
 * Keys as the Vault plugin (v1.2.7, its own request bodies) creates them and as tsb-client-go and the plugin
 * read them back: every field they read has the type they assert (Go type assertions panic otherwise), for
 * every key type; RSA and DSA 1024-bit keys (legacy strength) are created as the TSB does; the TSB docs'
 * HMACSHA256 example key is created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

const P = 'key-views';
let t: TestContext;
let headers: Record<string, string>;

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  headers = { ...(await t.as(P, ['keyManagement', 'keyOperation'])), 'content-type': 'application/json' };
});
afterAll(() => t?.close());

/** the attributes of the plugin's tests (tests/path_hsm_key_*_test.go) */
const PLUGIN_ATTRIBUTES =
  '{"decrypt": true,"sign": false,"unwrap": true,"derive": true,"sensitive": false,"extractable": false,"modifiable": true,"copyable": false,"destroyable": true}';

/** The plugin's CreateOrUpdateKey body (client/key.go): keySize left out when 0, no password, policy null. */
function pluginCreate(label: string, algorithm: string, keySize: number, curveOid = '') {
  const size = keySize === 0 ? '' : `"keySize": ${keySize},`;
  const curve = curveOid === '' ? '' : `"curveOid": "${curveOid}",`;
  return t.app.inject({
    method: 'POST',
    url: '/v1/key',
    headers,
    payload: `{\n\t"label": "${label}",\n    "algorithm": "${algorithm}",\t\n    \n\t${size}\n\t${curve}\n\t"attributes": ${JSON.stringify(JSON.parse(PLUGIN_ATTRIBUTES))},"policy":null}`,
  });
}

/** GetKey of tsb-client-go and the plugin: the fields read, with the Go type assertion each one makes. */
async function readAsGoClient(label: string) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/key/attributes',
    headers,
    payload: `{\n\t\t\t\n\t\t\t"label":"${label}"\t\t\n\t\t}`,
  });
  expect(response.statusCode, response.body).toBe(200);
  const data = response.json();
  const json = data.json;
  // `.(string)` assertions: a null or a number here is a panic in the client
  for (const value of [json.algorithm, json.algorithmOid, json.label]) expect(typeof value).toBe('string');
  for (const value of [data.xml, data.xmlSignature, data.attestationKeyName])
    expect(typeof value).toBe('string');
  expect(json.attributes).toBeTypeOf('object');
  for (const value of Object.values(json.attributes)) expect(['boolean', 'object']).toContain(typeof value);
  // read only when of the right type (`%T` checks): a string or absent, a number or absent
  expect(['string', 'object']).toContain(typeof json.curveOid);
  expect(['string', 'object']).toContain(typeof json.publicKey);
  expect(['number', 'object']).toContain(typeof json.keySize);
  // `.(*string)` when not nil: only null can be read
  expect(json.id).toBeNull();
  return json;
}

describe('the Vault plugin creates, tsb-client-go and the plugin read', () => {
  it.each([
    ['AES', 256, '2.16.840.1.101.3.4.1'],
    ['AES', 128, '2.16.840.1.101.3.4.1'],
    ['Camellia', 256, '1.2.392.200011.61.1.1.1'],
    ['ChaCha20', 256, '1.2.840.113549.1.9.16.3.18'],
    ['TDEA', 0, '1.2.840.113549.3.7'],
  ])('%s-%i: algorithmOid is a string', async (algorithm, keySize, oid) => {
    const label = `TEST_SECUROSYS_SECRETS_ENGINE_${algorithm}_${keySize}`;
    const created = await pluginCreate(label, algorithm, keySize);
    expect(created.statusCode, created.body).toBe(201);
    const json = await readAsGoClient(label);
    expect(json.algorithm).toBe(algorithm);
    expect(json.algorithmOid).toBe(oid);
    expect(json.keySize).toBe(keySize === 0 ? 192 : keySize);
  });

  it.each([
    ['RSA', 1024, '1.2.840.113549.1.1.1'],
    ['DSA', 1024, '1.2.840.10040.4.1'],
  ])('%s-%i (legacy strength) is created', async (algorithm, keySize, oid) => {
    const label = `TEST_SECUROSYS_SECRETS_ENGINE_${algorithm}_${keySize}`;
    const created = await pluginCreate(label, algorithm, keySize);
    expect(created.statusCode, created.body).toBe(201);
    const json = await readAsGoClient(label);
    expect(json).toMatchObject({ algorithm, algorithmOid: oid, keySize });
  });

  it('ED (the plugin test reads algorithmOid 1.3.101.112)', async () => {
    const created = await pluginCreate('TEST_ED', 'ED', 0, '1.3.101.112');
    expect(created.statusCode, created.body).toBe(201);
    expect((await readAsGoClient('TEST_ED')).algorithmOid).toBe('1.3.101.112');
  });

  it('a 1024-bit RSA key signs what node:crypto verifies', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/key',
      headers,
      payload: {
        label: 'rsa-1024-signer',
        algorithm: 'RSA',
        keySize: 1024,
        attributes: { decrypt: false, sign: true, unwrap: false },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const signed = await t.app.inject({
      method: 'POST',
      url: '/v1/synchronousSign',
      headers,
      payload: {
        signRequest: {
          payload: Buffer.from('legacy').toString('base64'),
          signKeyName: 'rsa-1024-signer',
          signatureAlgorithm: 'SHA256_WITH_RSA',
        },
      },
    });
    expect(signed.statusCode, signed.body).toBe(200);
    const { createPublicKey, verify } = await import('node:crypto');
    const key = createPublicKey({
      key: Buffer.from(created.json().json.publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    expect(verify('sha256', Buffer.from('legacy'), key, Buffer.from(signed.json().signature, 'base64'))).toBe(
      true,
    );
  });
});

describe('the TSB docs (Concepts/key/CreateKey.md)', () => {
  it('creates the HMAC example key: HMACSHA256 with sign false', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/key',
      headers,
      payload: {
        label: 'hmacsha256',
        password: null,
        algorithm: 'HMACSHA256',
        attributes: {
          sign: false,
          extractable: false,
          modifiable: false,
          destroyable: false,
          sensitive: true,
          decrypt: false,
          unwrap: false,
        },
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    const json = await readAsGoClient('hmacsha256');
    expect(json).toMatchObject({ algorithm: 'HMACSHA256', algorithmOid: '1.2.840.113549.2.9', keySize: 256 });
    expect(json.attributes.sign).toBe(false);
    const hmac = await t.app.inject({
      method: 'POST',
      url: '/v1/synchronousHmac',
      headers,
      payload: { hmacRequest: { keyName: 'hmacsha256', payload: 'YXNk' } },
    });
    expect(hmac.statusCode, hmac.body).toBe(403);
    expect(hmac.json().errorCode).toBe(614);
  });
});
