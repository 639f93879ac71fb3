/**
 * tsb-client-go's integration suite signs with `signatureType: RAW` and verifies the signature without
 * naming the type (its Verify sends none), expecting `signatureValid: true`. A verify request that names no
 * type accepts an ECDSA (and DSA) signature in DER, RAW or, where signing allows it, ETH encoding.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

const P = 'verify-encodings';
let t: TestContext;

/** tsb-client-go's EC_SIGNATURE_ALGORITHM list. */
const EC_ALGORITHMS = [
  'NONE_WITH_ECDSA',
  'SHA1_WITH_ECDSA',
  'SHA224_WITH_ECDSA',
  'SHA256_WITH_ECDSA',
  'DOUBLE_SHA256_WITH_ECDSA',
  'SHA384_WITH_ECDSA',
  'SHA512_WITH_ECDSA',
  'SHA3224_WITH_ECDSA',
  'SHA3256_WITH_ECDSA',
  'SHA3384_WITH_ECDSA',
  'SHA3512_WITH_ECDSA',
  'SHA256_WITH_ECDSA_DETERMINISTIC',
  'KECCAK224_WITH_ECDSA',
  'KECCAK256_WITH_ECDSA',
  'KECCAK384_WITH_ECDSA',
  'KECCAK512_WITH_ECDSA',
];
/** the suite's payload ("go-client-test-payload"), or its SHA-256 for NONE_WITH_* */
const PAYLOAD = 'Z28tY2xpZW50LXRlc3QtcGF5bG9hZA==';
const payloadFor = (algorithm: string) =>
  algorithm.startsWith('NONE_WITH_')
    ? createHash('sha256').update(Buffer.from(PAYLOAD, 'base64')).digest('base64')
    : PAYLOAD;

const spkis = new Map<string, Buffer>();

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  // tsb-client-go CreateOrUpdateKey with the suite's attributes (extractable, so the policy is null)
  const attributes = {
    decrypt: true,
    encrypt: true,
    extractable: true,
    sign: true,
    unwrap: true,
    verify: true,
    wrap: true,
    destroyable: true,
  };
  const keys = {
    'go-client-test-ec-sign': `"curveOid": "1.2.840.10045.3.1.7",`,
    'k1-sign': `"curveOid": "1.3.132.0.10",`,
    'dsa-sign': `"keySize": 2048,`,
  };
  for (const [label, extra] of Object.entries(keys)) {
    const algorithm = label === 'dsa-sign' ? 'DSA' : 'EC';
    const response = await t.app.inject({
      method: 'POST',
      url: '/v1/key',
      headers: { ...(await t.as(P, ['keyManagement'])), 'content-type': 'application/json' },
      payload: `{\n\t"label": "${label}",\n    "algorithm": "${algorithm}",\t\n    \n\t${extra}\n\t"attributes": ${JSON.stringify(attributes)},"policy":null}`,
    });
    expect(response.statusCode, response.body).toBe(201);
    spkis.set(label, Buffer.from(response.json().json.publicKey, 'base64'));
  }
});
afterAll(() => t?.close());

async function sign(label: string, algorithm: string, signatureType: string): Promise<string> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/synchronousSign',
    headers: { ...(await t.as(P, ['keyOperation'])), 'content-type': 'application/json' },
    payload: `{\n\t\t"signRequest": {\n\t\t"payload": "${payloadFor(algorithm)}",\n\t\t"payloadType": "UNSPECIFIED",\n\t\t\n\t\t"signKeyName": "${label}",\n\t\t"signatureAlgorithm": "${algorithm}",\n  \t\t"signatureType":"${signatureType}"\n\n\t\t}\n\t  }`,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().signature;
}

/** tsb-client-go Verify: no signatureType, no payloadType. */
async function verifyAsGoClient(
  label: string,
  algorithm: string,
  signature: string,
  payload = payloadFor(algorithm),
) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/v1/verify',
    headers: { ...(await t.as(P, ['keyOperation'])), 'content-type': 'application/json' },
    payload: `{\n\t\t"verifySignatureRequest": {\n\t\t  "payload": "${payload}",\n\t\t  \n\t\t  "signKeyName": "${label}",\n\t\t  "signatureAlgorithm": "${algorithm}",\n\t\t  "signature": "${signature}"\n\t\t}\n\t  }`,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().signatureValid as boolean;
}

describe('ECDSA verify without signatureType (tsb-client-go sign_test.go)', () => {
  it.each(EC_ALGORITHMS)('%s: a RAW signature is valid', async (algorithm) => {
    const signature = await sign('go-client-test-ec-sign', algorithm, 'RAW');
    expect(Buffer.from(signature, 'base64')).toHaveLength(64);
    expect(await verifyAsGoClient('go-client-test-ec-sign', algorithm, signature)).toBe(true);
  });

  it('the RAW signature is r‖s over the payload (node:crypto agrees)', async () => {
    const signature = await sign('go-client-test-ec-sign', 'SHA256_WITH_ECDSA', 'RAW');
    const key = createPublicKey({ key: spkis.get('go-client-test-ec-sign')!, format: 'der', type: 'spki' });
    const data = Buffer.from(PAYLOAD, 'base64');
    expect(verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64'))).toBe(
      true,
    );
  });

  it('a DER signature is valid too', async () => {
    const signature = await sign('go-client-test-ec-sign', 'SHA256_WITH_ECDSA', 'DER');
    expect(await verifyAsGoClient('go-client-test-ec-sign', 'SHA256_WITH_ECDSA', signature)).toBe(true);
  });

  it('an ETH signature (r‖s‖v, KECCAK256 on secp256k1) is valid too', async () => {
    const signature = await sign('k1-sign', 'KECCAK256_WITH_ECDSA', 'ETH');
    expect(Buffer.from(signature, 'base64')).toHaveLength(65);
    expect(await verifyAsGoClient('k1-sign', 'KECCAK256_WITH_ECDSA', signature)).toBe(true);
    // a wrong recovery byte names another signer
    const bytes = Buffer.from(signature, 'base64');
    bytes[64] = bytes[64] === 27 ? 28 : 27;
    expect(await verifyAsGoClient('k1-sign', 'KECCAK256_WITH_ECDSA', bytes.toString('base64'))).toBe(false);
  });

  it('a RAW signature over other bytes is not valid', async () => {
    const signature = await sign('go-client-test-ec-sign', 'SHA256_WITH_ECDSA', 'RAW');
    const other = Buffer.from('other payload').toString('base64');
    expect(await verifyAsGoClient('go-client-test-ec-sign', 'SHA256_WITH_ECDSA', signature, other)).toBe(
      false,
    );
  });

  it('a request that names the type still means only that type', async () => {
    const signature = await sign('go-client-test-ec-sign', 'SHA256_WITH_ECDSA', 'RAW');
    const response = await t.call(P, ['keyOperation'], {
      method: 'POST',
      url: '/v1/verify',
      body: {
        verifySignatureRequest: {
          payload: PAYLOAD,
          signKeyName: 'go-client-test-ec-sign',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
          signature,
          signatureType: 'DER',
        },
      },
    });
    expect(response.json().signatureValid).toBe(false);
  });
});

describe('DSA verify without signatureType', () => {
  it.each(['SHA256_WITH_DSA', 'NONE_WITH_DSA'])('%s: RAW and DER signatures are valid', async (algorithm) => {
    for (const type of ['RAW', 'DER']) {
      const signature = await sign('dsa-sign', algorithm, type);
      expect(await verifyAsGoClient('dsa-sign', algorithm, signature)).toBe(true);
    }
  });
});
