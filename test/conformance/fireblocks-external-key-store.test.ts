/**
 * Conformance: securosys-com/fireblocks-external-key-store (the Fireblocks agent), commit
 * 5d7c2ad3cb2c30bf4d2a19d4da1047443ccaa70d.
 *
 * Read from: fireblocks-service/.../business/service/TsbService.java (every TSB call: bodies built with
 * Jackson from maps, `Content-Type: application/json` on POST and GET, none on DELETE, which sends
 * `Accept: * /*`; the status codes each call accepts and the answer fields it reads),
 * .../business/facade/HsmFacade.java (sign: payloadType HEX with signatureType RAW and NONE_WITH_ECDSA for
 * ECDSA_SECP256K1; the request polled while PENDING), .../business/service/HelperService.java (the
 * validation key FIREBLOCKS_VALIDATION_KEY: created, self-signed as a CA, then signing the CSRs of asset
 * keys), .../dto/response/LicenseResponseDto.java.
 */
import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import { rawPublicKeyOfSpki } from '../helpers/signatures.js';
import { conformanceContext, expectStatus, pollRequest, type WireClient, wireClient } from './wire.js';

const P = 'fireblocks';
const VALIDATION_KEY = 'FIREBLOCKS_VALIDATION_KEY';
const SIGNING_KEY = 'Fireblocks_SigningKey';
let t: TestContext;
let agent: WireClient;
const JSON_CT = { headers: { 'content-type': 'application/json' } };

/** TsbService.prepareAttributes() */
const ATTRIBUTES = {
  decrypt: true,
  sign: true,
  wrap: false,
  unwrap: false,
  derive: false,
  extractable: false,
  modifiable: true,
  destroyable: true,
  sensitive: true,
  copyable: false,
};

beforeAll(async () => {
  t = await conformanceContext(P);
  // one access token (tsbAccessToken) for every call
  agent = await wireClient(t, P, ['keyManagement', 'keyOperation', 'service']);
});
afterAll(() => t.close());

/** createOrUpdateKey: no policy, 201 is the only success */
async function createKey(label: string, algorithm: string, curveOid: string | null, keySize: number) {
  const body: Record<string, unknown> = { label, algorithm };
  if (keySize > 0) body['keySize'] = keySize;
  if (curveOid) body['curveOid'] = curveOid;
  body['attributes'] = ATTRIBUTES;
  const answer = await agent.send('POST', '/v1/key', { ...JSON_CT, body });
  expect(answer.status, answer.text).toBe(201);
}

/** getPublicKey: reads json.publicKey, algorithm, keySize, curveOid (and algorithmOid for ED) */
async function getPublicKey(label: string) {
  const answer = await agent.send('POST', '/v1/key/attributes', { ...JSON_CT, body: { label } });
  expectStatus(answer);
  const json = answer.json.json;
  expect(typeof json.publicKey, 'json.publicKey').toBe('string');
  expect(typeof json.algorithm, 'json.algorithm').toBe('string');
  return json;
}

/** getRequest: 200 only; reads id, status and result as text */
async function getRequest(id: string) {
  const answer = await pollRequest(agent, id);
  expect(answer.status, answer.text).toBe(200);
  expect(typeof answer.json.id).toBe('string');
  expect(typeof answer.json.status).toBe('string');
  return answer.json;
}

describe('HelperService: the validation key', () => {
  it('createValidationKey: RSA-2048 created (201), its public key read, self-signed as a CA with the CN in standardCertificateAttributes', async () => {
    await createKey(VALIDATION_KEY, 'RSA', null, 2048);
    const json = await getPublicKey(VALIDATION_KEY);
    expect(json.keySize).toBe(2048);
    const selfSigned = await agent.send('POST', '/v1/certificate/synchronous/selfsign', {
      ...JSON_CT,
      body: {
        signKeyName: VALIDATION_KEY,
        validity: 365,
        signatureAlgorithm: 'SHA256_WITH_RSA',
        certificateAuthority: true,
        standardCertificateAttributes: { commonName: VALIDATION_KEY },
        keyUsage: ['KEY_CERT_SIGN'],
        extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
      },
    });
    expectStatus(selfSigned);
  });

  it('generateCsr (not an SKA key) and signCsr: a CSR without validity, signed by the validation key', async () => {
    await createKey('fireblocks-asset-ec', 'EC', '1.3.132.0.10', 0);
    const csr = await agent.send('POST', '/v1/certificate/synchronous/request', {
      ...JSON_CT,
      body: {
        signKeyName: 'fireblocks-asset-ec',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
        standardCertificateAttributes: { commonName: 'fireblocks-asset-ec' },
        keyUsage: ['DIGITAL_SIGNATURE'],
        extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
      },
    });
    expectStatus(csr);
    expect(typeof csr.json.certificateSigningRequest).toBe('string');
    const signed = await agent.send('POST', '/v1/certificate/synchronous/sign', {
      ...JSON_CT,
      body: {
        signKeyName: VALIDATION_KEY,
        signatureAlgorithm: 'SHA256_WITH_RSA',
        standardCertificateAttributes: { commonName: VALIDATION_KEY },
        validity: 365,
        certificateAuthority: false,
        certificateSigningRequest: csr.json.certificateSigningRequest,
        keyUsage: ['DIGITAL_SIGNATURE'],
        extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
      },
    });
    expectStatus(signed);
    expect(typeof signed.json.certificate, signed.text).toBe('string');
  });

  it('generateCsr (an SKA key): csrSignRequest without validity or metaData, result read from the request', async () => {
    const created = await agent.send('POST', '/v1/certificate/request', {
      ...JSON_CT,
      body: {
        csrSignRequest: {
          signKeyName: 'fireblocks-asset-ec',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
          standardCertificateAttributes: { commonName: 'fireblocks-asset-ec' },
          keyUsage: ['DIGITAL_SIGNATURE'],
          extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
        },
      },
    });
    expectStatus(created);
    expect(typeof created.json.signRequestId).toBe('string');
    const request = await getRequest(created.json.signRequestId);
    expect(request.status).toBe('EXECUTED');
    expect(typeof request.result).toBe('string');
  });
});

describe('HsmFacade.sign: a Fireblocks transaction', () => {
  it('ECDSA_SECP256K1: payloadType HEX (a hex digest), RAW, NONE_WITH_ECDSA; the result signs exactly those 32 bytes', async () => {
    await createKey(SIGNING_KEY, 'EC', '1.3.132.0.10', 0);
    const spki = Buffer.from((await getPublicKey(SIGNING_KEY)).publicKey, 'base64');
    const digest = createHash('sha256').update('a Fireblocks transaction').digest();
    const created = await agent.send('POST', '/v1/sign', {
      ...JSON_CT,
      body: {
        signRequest: {
          payload: digest.toString('hex'),
          payloadType: 'HEX',
          signKeyName: SIGNING_KEY,
          signatureAlgorithm: 'NONE_WITH_ECDSA',
          signatureType: 'RAW',
        },
      },
    });
    expectStatus(created);
    expect(typeof created.json.signRequestId).toBe('string');
    const request = await getRequest(created.json.signRequestId);
    expect(request.status, JSON.stringify(request)).toBe('EXECUTED');
    const signature = Buffer.from(request.result, 'base64');
    expect(signature).toHaveLength(64);
    const publicKey = rawPublicKeyOfSpki(spki, 65);
    expect(
      secp256k1.verify(signature, digest, publicKey, { prehash: false }),
      'signature over the hex-decoded digest',
    ).toBe(true);
  });

  it('signMessageForOwnership: payloadType UNSPECIFIED, RAW, SHA256_WITH_ECDSA', async () => {
    const created = await agent.send('POST', '/v1/sign', {
      ...JSON_CT,
      body: {
        signRequest: {
          payload: Buffer.from('proof of ownership').toString('base64'),
          payloadType: 'UNSPECIFIED',
          signKeyName: 'fireblocks-asset-ec',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
          signatureType: 'RAW',
        },
      },
    });
    expectStatus(created);
    const request = await getRequest(created.json.signRequestId);
    expect(request.status).toBe('EXECUTED');
    expect(Buffer.from(request.result, 'base64')).toHaveLength(64);
  });
});

describe('TsbService: licence and key removal', () => {
  it('getLicense: GET /v1/licenseInfo (JSON content type, no body) 200, clientFlags a list or absent', async () => {
    const answer = await agent.send('GET', '/v1/licenseInfo', JSON_CT);
    expect(answer.status, answer.text).toBe(200);
    const flags = answer.json.clientFlags;
    if (flags != null) expect(Array.isArray(flags)).toBe(true);
  });

  it('deleteKey: DELETE /v1/key/{name} with Accept */* and no content type, 200', async () => {
    const answer = await agent.send('DELETE', '/v1/key/fireblocks-asset-ec', { headers: { accept: '*/*' } });
    expect(answer.status, answer.text).toBe(200);
  });
});
