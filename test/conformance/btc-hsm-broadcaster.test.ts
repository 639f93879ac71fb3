/**
 * Conformance: securosys-com/btc-hsm-broadcaster, commit bc3244dec998282c655ec1ac77dc594e9f558268.
 *
 * Read from: hsm/securosys_rest_api.py (fetchKeysFromHsm, getOrCreateSecp256k1Key, getAddressAndPublicKey,
 * sign_with_hsm, fetchKeyAttributeFromHsm: Python `requests` with `json=`, so bodies are json.dumps output
 * with ", " and ": " separators, and `Content-Type: application/json` also on the GET) and main.py (the
 * order of the calls; TSB_API_URL ends in /v1; the first three calls carry no access token at all, only
 * the signing call passes TSB_ACCESS_TOKEN, so main.py needs a TSB without authentication).
 */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import { rawPublicKeyOfSpki } from '../helpers/signatures.js';
import { conformanceContext, type WireClient, wireClient } from './wire.js';

/** json.dumps with its default separators */
function pyJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}: ${pyJson(item)}`)
      .join(', ')}}`;
  return JSON.stringify(value);
}

const LABEL = 'btc-hsm-broadcaster-key';
const JSON_CT = { 'content-type': 'application/json' };

/** getOrCreateSecp256k1Key's body */
const CREATE_BODY = pyJson({
  label: LABEL,
  algorithm: 'EC',
  curveOid: '1.3.132.0.10',
  addressFormat: { format: 'BTC' },
  attributes: {
    decrypt: false,
    sign: true,
    unwrap: false,
    destroyable: true,
    modifiable: true,
    derive: true,
    bip32: true,
  },
  policy: {
    ruleUse: null,
    ruleBlock: null,
    ruleUnblock: null,
    ruleModify: null,
    keyStatus: { blocked: false },
  },
});

/** main.py: list, create if missing, read the public key and address, sign a segwit sighash preimage */
async function mainPy(open: WireClient, signer: WireClient): Promise<void> {
  const keys = await open.send('GET', '/v1/key', { headers: JSON_CT });
  expect(keys.status, keys.text).toBe(200);
  expect(Array.isArray(keys.json)).toBe(true);
  if (!keys.json.includes(LABEL)) {
    const created = await open.send('POST', '/v1/key', { headers: JSON_CT, body: CREATE_BODY });
    expect(created.status, created.text).toBeLessThan(300);
  }
  const attributes = await open.send('POST', '/v1/key/attributes', {
    headers: JSON_CT,
    body: pyJson({ label: LABEL }),
  });
  expect(attributes.status, attributes.text).toBeLessThan(300);
  const json = attributes.json.json;
  expect(typeof json.publicKey).toBe('string');
  // addressTruncated is read when it is an object with an `address`; null means "compute it yourself"
  if (json.addressTruncated != null) expect(typeof json.addressTruncated).toBe('object');
  const preimage = Buffer.from('a segwit v0 sighash preimage');
  const signed = await signer.send('POST', '/v1/synchronousSign', {
    headers: JSON_CT,
    body: pyJson({
      signRequest: {
        payload: preimage.toString('base64'),
        payloadType: 'UNSPECIFIED',
        signKeyName: LABEL,
        signatureAlgorithm: 'DOUBLE_SHA256_WITH_ECDSA',
        signatureType: 'DER',
      },
    }),
  });
  expect(signed.status, signed.text).toBeLessThan(300);
  const der = Buffer.from(signed.json.signature, 'base64');
  const digest = createHash('sha256').update(createHash('sha256').update(preimage).digest()).digest();
  const publicKey = rawPublicKeyOfSpki(Buffer.from(json.publicKey, 'base64'), 65);
  expect(secp256k1.verify(der, digest, publicKey, { prehash: false, format: 'der', lowS: false })).toBe(true);
}

describe('with an access token on every call', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await conformanceContext('btc');
  });
  afterAll(() => t.close());

  it('main.py: GET /v1/key, POST /v1/key (BTC address format, null rules), /v1/key/attributes, /v1/synchronousSign', async () => {
    const client = await wireClient(t, 'btc', ['keyManagement', 'keyOperation']);
    await mainPy(client, client);
  });
});

describe('as main.py runs it: no credential except on the signing call (TSB_AUTH_NONE_PARTITION)', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await conformanceContext('btc', {}, { env: { TSB_AUTH_NONE_PARTITION: 'btc' } });
  });
  afterAll(() => t.close());

  it('the same calls without an Authorization header act in the development partition', async () => {
    const open = await wireClient(t, 'btc', null);
    await mainPy(open, open);
  });
});
