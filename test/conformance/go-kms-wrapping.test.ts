/**
 * Conformance: securosys-com/go-kms-wrapping (the OpenBao fork), commit 09da2ac0a2cb1e0fde4517e519cb1c48afb42ffe:
 * the `securosyshsm` seal wrapper and key store, which carry their own copy of the TSB client.
 *
 * Read from: wrappers/securosyshsm/securosysHSM_client.go (start-up: read the key, create an RSA-2048 key
 * with the policy of PreparePolicy("{}") when it is missing; Encrypt with RSA_PADDING_OAEP_WITH_SHA256;
 * Decrypt as an asynchronous request polled until it leaves PENDING), keystores/securosyshsm/keystore.go
 * (GenerateKeyPair, GenerateSecretKey, GetKeyByName, ListKeys, RemoveKey, GenerateRandom, attributesMapper,
 * MapToPolicy), cipher.go, signer.go, client/TSBClient.go (doRequest: `Content-Type: application/json` on
 * every call), client/key.go (RemoveKey is `DELETE /v1/key/{label}` without a body), client/encrypt.go,
 * client/sign.go, client/requests.go, helpers/functions.go (PreparePolicyTokens: a token without approvers
 * has `"groups":null`), helpers/structs.go, and kms_test.go (the keys and ciphers it exercises).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import {
  b64,
  conformanceContext,
  expectKind,
  expectStatus,
  pollRequest,
  type WireClient,
  wireClient,
} from './wire.js';

const P = 'openbao';
let t: TestContext;
let bao: WireClient;

beforeAll(async () => {
  t = await conformanceContext(P);
  bao = await wireClient(t, P, ['keyManagement', 'keyOperation', 'service'], {
    'content-type': 'application/json',
  });
});
afterAll(() => t.close());

/** keystore.go attributesMapper, marshalled as a Go map (keys sorted) */
function attributes(flags: {
  decrypt?: boolean;
  encrypt?: boolean;
  sign?: boolean;
  verify?: boolean;
  sensitive?: boolean;
}) {
  return JSON.stringify({
    decrypt: flags.decrypt ?? false,
    derive: false,
    destroyable: true,
    encrypt: flags.encrypt ?? false,
    extractable: false,
    sensitive: flags.sensitive ?? false,
    sign: flags.sign ?? false,
    unwrap: false,
    verify: flags.verify ?? false,
    wrap: false,
  });
}

function createBody(
  label: string,
  algorithm: string,
  keySize: number,
  curveOid: string,
  attrs: string,
  policy: string,
) {
  const size = keySize === 0 ? '' : `"keySize": ${keySize},`;
  const curve = curveOid === '' ? '' : `"curveOid": "${curveOid}",`;
  return `{\n\t"label": "${label}",\n    "algorithm": "${algorithm}",\t\n    \n\t${size}\n\t${curve}\n\t"attributes": ${attrs},"policy":${policy}}`;
}

/** client/key.go GetKey: the fields it type-asserts (a wrong type is a panic in the seal) */
async function getKey(label: string) {
  const answer = await bao.send('POST', '/v1/key/attributes', {
    body: `{\n\t\t\t\n\t\t\t"label":"${label}"\t\t\n\t\t}`,
  });
  expectStatus(answer);
  const { json } = answer.json;
  expectKind(json.algorithm, 'string', 'json.algorithm');
  expectKind(json.algorithmOid, 'string', 'json.algorithmOid');
  expect(json.id ?? null, 'json.id must be null or absent (the client asserts *string)').toBeNull();
  expectKind(json.attributes, 'object', 'json.attributes');
  expectKind(answer.json.xml, 'string', 'xml');
  expectKind(answer.json.xmlSignature, 'string', 'xmlSignature');
  expectKind(answer.json.attestationKeyName, 'string', 'attestationKeyName');
  expectKind(json.label, 'string', 'json.label');
  return json;
}

/** the policy of PreparePolicy("{}", simplified): a token "main" with no groups in each rule */
const TOKEN = '{"name":"main","timelock":0,"timeout":0,"groups":null}';
const SEAL_POLICY = `{"ruleUse":{"tokens":[${TOKEN}]},"ruleBlock":{"tokens":[${TOKEN}]},"ruleUnblock":{"tokens":[${TOKEN}]},"ruleModify":{"tokens":[${TOKEN}]},"keyStatus":{"blocked":false}}`;

describe('the OpenBao seal (wrappers/securosyshsm)', () => {
  const label = 'openbao-unseal-key';
  let ciphertext = '';

  it('start-up: reads the key (missing: not 200/201), creates RSA-2048 with its policy, reads it again', async () => {
    const missing = await bao.send('POST', '/v1/key/attributes', { body: `{"label":"${label}"}` });
    expect([200, 201]).not.toContain(missing.status);
    const created = await bao.send('POST', '/v1/key', {
      body: createBody(
        label,
        'RSA',
        2048,
        '',
        attributes({ decrypt: true, encrypt: true, sign: true, verify: true, sensitive: true }),
        SEAL_POLICY,
      ),
    });
    expectStatus(created);
    const json = await getKey(label);
    expect(json.algorithm).toBe('RSA');
    expectKind(json.policy, 'object', 'json.policy');
  });

  it('Encrypt: /v1/encrypt RSA_PADDING_OAEP_WITH_SHA256, reads encryptedPayload and the optional fields', async () => {
    const answer = await bao.send('POST', '/v1/encrypt', {
      body: `{\n\t\t"encryptRequest": {\n\t\t  "payload": "${b64('the OpenBao root key')}",\n\t\t  \n\t\t  "encryptKeyName": "${label}",\n\t\t  "cipherAlgorithm": "RSA_PADDING_OAEP_WITH_SHA256",\n\t\t  \n\t\t  "additionalAuthenticationData":null\n\t\t}\n\t  }`,
    });
    expect(answer.status, answer.text).toBe(200);
    expectKind(answer.json.encryptedPayload, 'string', 'encryptedPayload');
    for (const field of [
      'encryptedPayloadWithoutMessageAuthenticationCode',
      'initializationVector',
      'messageAuthenticationCode',
    ]) {
      const value = answer.json[field];
      if (value != null) expectKind(value, 'string', field);
    }
    ciphertext = answer.json.encryptedPayload;
  });

  it('Decrypt (unseal): /v1/decrypt as a request, then GET /v1/request/{id} until EXECUTED, result is the plaintext', async () => {
    const metaData = b64(
      JSON.stringify({ app: 'OpenBao - Unseal Operation', time: '2026-01-01T00:00:00Z', type: 'Decrypt' }),
    );
    const requestJson = `{"encryptedPayload":"${ciphertext}","decryptKeyName":"${label}","metaData":"${metaData}","metaDataSignature":null,"cipherAlgorithm":"RSA_PADDING_OAEP_WITH_SHA256","initializationVector":null,"additionalAuthenticationData":null}`;
    const created = await bao.send('POST', '/v1/decrypt', {
      body: `{"decryptRequest":${requestJson},"requestSignature":null}`,
    });
    expectStatus(created);
    expectKind(created.json.decryptRequestId, 'string', 'decryptRequestId');
    const request = await pollRequest(bao, created.json.decryptRequestId);
    expect(request.status, request.text).toBe(200);
    expect(request.json.status).toBe('EXECUTED');
    for (const list of ['notYetApprovedBy', 'rejectedBy', 'approvedBy']) {
      const value = request.json[list];
      if (value != null) expectKind(value, 'array', list);
    }
    expect(Buffer.from(request.json.result, 'base64').toString()).toBe('the OpenBao root key');
  });
});

describe('the key store (keystores/securosyshsm, as kms_test.go uses it)', () => {
  it('GenerateSecretKey AES-256 ("policy":null), GetKey reads algorithmOid as a string', async () => {
    const created = await bao.send('POST', '/v1/key', {
      body: createBody(
        'OPENBAO_AES_TEST_KEY',
        'AES',
        256,
        '',
        attributes({ decrypt: true, encrypt: true }),
        'null',
      ),
    });
    expectStatus(created);
    const json = await getKey('OPENBAO_AES_TEST_KEY');
    expect(json.algorithm).toBe('AES');
  });

  it('GenerateKeyPair EC P-256 with no provider policy: "policy":{"ruleUse":{"tokens":null}}', async () => {
    const created = await bao.send('POST', '/v1/key', {
      body: createBody(
        'OPENBAO_EC_TEST_KEY',
        'EC',
        0,
        '1.2.840.10045.3.1.7',
        attributes({ sign: true, verify: true }),
        '{"ruleUse":{"tokens":null}}',
      ),
    });
    expectStatus(created);
    await getKey('OPENBAO_EC_TEST_KEY');
  });

  it('Signer: /v1/sign as a request (payloadType UNSPECIFIED, no signatureType), result read from /v1/request/{id}', async () => {
    const created = await bao.send('POST', '/v1/key', {
      body: createBody(
        'OPENBAO_EC_SIGN_KEY',
        'EC',
        0,
        '1.2.840.10045.3.1.7',
        attributes({ sign: true, verify: true }),
        SEAL_POLICY,
      ),
    });
    expectStatus(created);
    const metaData = b64(JSON.stringify({ app: 'OpenBao - Securosys HSM KMS', type: 'Sign' }));
    const signed = await bao.send('POST', '/v1/sign', {
      body: `{"signRequest":{"payload":"${b64('data to sign')}","payloadType":"UNSPECIFIED","signKeyName":"OPENBAO_EC_SIGN_KEY","signatureAlgorithm":"SHA256_WITH_ECDSA","metaData":"${metaData}","metaDataSignature":null},"requestSignature":null}`,
    });
    expectStatus(signed);
    expectKind(signed.json.signRequestId, 'string', 'signRequestId');
    const request = await pollRequest(bao, signed.json.signRequestId);
    expect(request.json.status, request.text).toBe('EXECUTED');
    expectKind(request.json.result, 'string', 'result');
    const verified = await bao.send('POST', '/v1/verify', {
      body: `{\n\t\t"verifySignatureRequest": {\n\t\t  "payload": "${b64('data to sign')}",\n\t\t  \t\n\t\t  "signKeyName": "OPENBAO_EC_SIGN_KEY",\n\t\t  "signatureAlgorithm": "SHA256_WITH_ECDSA",\n\t\t  "signature": "${request.json.result}"\n\t\t}\n\t  }`,
    });
    expect(verified.status, verified.text).toBe(200);
    expect(verified.json.signatureValid).toBe(true);
  });

  it('ListKeys: GET /v1/key (JSON content type, no body) is an array of labels', async () => {
    const answer = await bao.send('GET', '/v1/key');
    expectStatus(answer);
    expectKind(answer.json, 'array', 'key list');
    expect(answer.json).toEqual(expect.arrayContaining(['OPENBAO_AES_TEST_KEY', 'OPENBAO_EC_TEST_KEY']));
  });

  it('GenerateRandom: GET /v1/generateRandom/{n}', async () => {
    const answer = await bao.send('GET', '/v1/generateRandom/16');
    expectStatus(answer);
    expect(Buffer.from(answer.json.random, 'base64')).toHaveLength(16);
  });

  it('RemoveKey: DELETE /v1/key/{label} with a JSON content type and no body removes the key', async () => {
    const removed = await bao.send('DELETE', '/v1/key/OPENBAO_AES_TEST_KEY');
    expectStatus(removed);
    const gone = await bao.send('POST', '/v1/key/attributes', { body: '{"label":"OPENBAO_AES_TEST_KEY"}' });
    expect([200, 201]).not.toContain(gone.status);
  });
});
