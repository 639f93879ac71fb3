/**
 * Conformance: securosys-com/securosys-openbao-autounseal-plugin, commit 7f3bbf5b953b319abdc0e67116f766e6da208efe
 * (main.go, go.mod): an OpenBao KMS plugin serving go-kms-wrapping's `wrappers/securosyshsm` from the securosys-com
 * fork at 96a1ac8b661e (2026-07-03), whose TSB calls are kms/securosyshsm's. That commit is not in the code index;
 * read from the fork's nearest stored versions: wrappers/securosyshsm/securosyshsm_client.go (66edad7: the key read
 * once at start-up, "securosys:<label>:<nonce>:<ciphertext>"), kms/securosyshsm/kms_impl.go (1b4bd25: Open checks
 * the connection and wants 200), kms/securosyshsm/key_impl.go (357ea56: AES keys use AES_GCM, tagLength 128 only
 * with AAD on encryption and always on decryption, the ciphertext is encryptedPayloadWithoutMessageAuthenticationCode
 * followed by messageAuthenticationCode when the former is not empty, the IV kept as the nonce; RSA keys use
 * RSA_PADDING_OAEP_WITH_SHA256 and always decrypt asynchronously, polled while PENDING or APPROVED and needing
 * EXECUTED) and kms/securosyshsm/internal/client (66edad7: tsb_client.go doRequest, `Content-Type:
 * application/json` on every call and only 200 and 201 as success; key.go GetKey, which also asserts
 * `derivedAttributes` to an object and a non-null `id` to *string; encrypt.go Encrypt, Decrypt, AsyncDecrypt with
 * app "OpenBao - Securosys HSM KMS"). The README asks for a key that exists before OpenBao starts: the test creates
 * it as an operator would, then runs the plugin's calls. Later stored versions move these calls onto tsb-client-go
 * (see tsb-client-go.test.ts) with the same bodies.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import { b64, conformanceContext, expectKind, type WireAnswer, type WireClient, wireClient } from './wire.js';

const P = 'autounseal';
let t: TestContext;
let bao: WireClient;
let operator: WireClient;
const PASSWORD = 'unseal-key-pw';

beforeAll(async () => {
  t = await conformanceContext(P);
  bao = await wireClient(t, P, ['keyManagement', 'keyOperation', 'service'], {
    'content-type': 'application/json',
  });
  operator = await wireClient(t, P, ['keyManagement'], { 'content-type': 'application/json' });
});
afterAll(() => t.close());

const chars = (password: string) => JSON.stringify([...password]);

/** doRequest: only 200 and 201 are success */
function ok(answer: WireAnswer): void {
  expect([200, 201], `${answer.status}: ${answer.text}`).toContain(answer.status);
}

/** GetKey: POST /v1/key/attributes and the type assertions it makes */
async function getKey(label: string) {
  const answer = await bao.send('POST', '/v1/key/attributes', {
    body: `{\n\t\t\t"password": ${chars(PASSWORD)},\n\t\t\t"label":"${label}"\t\t\n\t\t}`,
  });
  ok(answer);
  const json = answer.json.json;
  expectKind(json.algorithm, 'string', 'json.algorithm');
  expectKind(json.algorithmOid, 'string', 'json.algorithmOid');
  if (json.derivedAttributes != null) expectKind(json.derivedAttributes, 'object', 'json.derivedAttributes');
  expect(json.id ?? null, 'json.id must be null or absent (the client asserts *string)').toBeNull();
  expectKind(json.attributes, 'object', 'json.attributes');
  expectKind(answer.json.xml, 'string', 'xml');
  expectKind(answer.json.xmlSignature, 'string', 'xmlSignature');
  expectKind(answer.json.attestationKeyName, 'string', 'attestationKeyName');
  expectKind(json.label, 'string', 'json.label');
  return json;
}

const encryptBody = (label: string, payload: Buffer, cipher: string, aad: Buffer | null) =>
  `{\n\t\t"encryptRequest": {\n\t\t  "payload": "${b64(payload)}",\n\t\t  "keyPassword": ${chars(PASSWORD)},\n\t\t  "encryptKeyName": "${label}",\n\t\t  "cipherAlgorithm": "${cipher}",\n\t\t  ${aad ? '"tagLength":128,' : ''}\n\t\t  "additionalAuthenticationData":${aad ? `"${b64(aad)}"` : 'null'}\n\t\t}\n\t  }`;

describe('the seal with an AES key (AES_GCM)', () => {
  const label = 'openbao-autounseal-aes';

  it('Open: GET /v1/keystore/statistics (no body) is 200; GetKey reads the existing key', async () => {
    const created = await operator.send('POST', '/v1/key', {
      body: {
        label,
        password: PASSWORD,
        algorithm: 'AES',
        keySize: 256,
        attributes: {
          encrypt: true,
          decrypt: true,
          sign: false,
          unwrap: false,
          destroyable: true,
          sensitive: true,
          extractable: false,
        },
      },
    });
    expect(created.status, created.text).toBe(201);
    const statistics = await bao.send('GET', '/v1/keystore/statistics');
    expect(statistics.status, statistics.text).toBe(200);
    expect((await getKey(label)).algorithm).toBe('AES');
  });

  for (const aad of [null, randomBytes(16)]) {
    it(`Encrypt ${aad ? 'with AAD (tagLength 128)' : 'without AAD (no tagLength)'}, then synchronousDecrypt of ciphertext ‖ tag with tagLength 128`, async () => {
      const plaintext = randomBytes(32);
      const encrypted = await bao.send('POST', '/v1/encrypt', {
        body: encryptBody(label, plaintext, 'AES_GCM', aad),
      });
      ok(encrypted);
      const { encryptedPayload, encryptedPayloadWithoutMessageAuthenticationCode: withoutMac } =
        encrypted.json;
      expectKind(encryptedPayload, 'string', 'encryptedPayload');
      for (const field of [
        'encryptedPayloadWithoutMessageAuthenticationCode',
        'initializationVector',
        'messageAuthenticationCode',
      ]) {
        const value = encrypted.json[field];
        if (value != null) expectKind(value, 'string', field);
      }
      const mac = encrypted.json.messageAuthenticationCode;
      const ciphertext =
        withoutMac == null || withoutMac === ''
          ? Buffer.from(encryptedPayload, 'base64')
          : Buffer.concat([
              Buffer.from(withoutMac, 'base64'),
              mac ? Buffer.from(mac, 'base64') : Buffer.alloc(0),
            ]);
      const iv: string | null = encrypted.json.initializationVector ?? null;
      expect(iv, 'AES_GCM needs the IV back as the nonce').not.toBeNull();
      const decrypted = await bao.send('POST', '/v1/synchronousDecrypt', {
        body: `{\n\t\t"decryptRequest": {\n\t\t  "encryptedPayload": "${b64(ciphertext)}",\n\t\t  "keyPassword": ${chars(PASSWORD)},\t\n\t\t  "decryptKeyName": "${label}",\n\t\t  "cipherAlgorithm": "AES_GCM",\n\t\t  "initializationVector": "${iv}",\n\t\t  "tagLength":128,\n\t\t  "additionalAuthenticationData":${aad ? `"${b64(aad)}"` : 'null'}\n\t\t}\n\t  }`,
      });
      ok(decrypted);
      expectKind(decrypted.json.payload, 'string', 'payload');
      expect(Buffer.from(decrypted.json.payload, 'base64')).toEqual(plaintext);
    });
  }
});

describe('the seal with an RSA key (no SKA rule): encrypt, then always an asynchronous decrypt', () => {
  const label = 'openbao-autounseal-rsa';

  it('/v1/encrypt RSA_PADDING_OAEP_WITH_SHA256, /v1/decrypt minified with nulls, polled through PENDING/APPROVED to EXECUTED', async () => {
    const created = await operator.send('POST', '/v1/key', {
      body: {
        label,
        password: PASSWORD,
        algorithm: 'RSA',
        keySize: 2048,
        attributes: {
          encrypt: true,
          decrypt: true,
          sign: false,
          unwrap: false,
          destroyable: true,
          sensitive: true,
          extractable: false,
        },
      },
    });
    expect(created.status, created.text).toBe(201);
    await getKey(label);
    const plaintext = randomBytes(32);
    const encrypted = await bao.send('POST', '/v1/encrypt', {
      body: encryptBody(label, plaintext, 'RSA_PADDING_OAEP_WITH_SHA256', null),
    });
    ok(encrypted);
    const withoutMac = encrypted.json.encryptedPayloadWithoutMessageAuthenticationCode;
    const ciphertext: string = withoutMac ? withoutMac : encrypted.json.encryptedPayload;
    const metaData = b64(
      JSON.stringify({ app: 'OpenBao - Securosys HSM KMS', time: '2026-07-03T12:00:00Z', type: 'Decrypt' }),
    );
    // AsyncDecrypt: helpers.MinifyJson of the request, then of the whole body; no IV, no AAD, no tagLength
    const requestJson = `{"encryptedPayload":"${ciphertext}","keyPassword":${chars(PASSWORD)},"decryptKeyName":"${label}","metaData":"${metaData}","metaDataSignature":null,"cipherAlgorithm":"RSA_PADDING_OAEP_WITH_SHA256","initializationVector":null,"additionalAuthenticationData":null}`;
    const started = await bao.send('POST', '/v1/decrypt', {
      body: `{"decryptRequest":${requestJson},"requestSignature":null}`,
    });
    ok(started);
    expectKind(started.json.decryptRequestId, 'string', 'decryptRequestId');
    let request: WireAnswer;
    const until = Date.now() + 10_000;
    for (;;) {
      request = await bao.send('GET', `/v1/request/${started.json.decryptRequestId}`);
      ok(request);
      if (!['PENDING', 'APPROVED'].includes(request.json.status) || Date.now() > until) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(request.json.status, request.text).toBe('EXECUTED');
    expect(Buffer.from(request.json.result, 'base64')).toEqual(plaintext);
  });
});
