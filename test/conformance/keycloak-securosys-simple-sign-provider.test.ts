/**
 * Conformance: securosys-com/keycloak-securosys-simple-sign-provider, commit
 * a9ddfbbd371dce7ae8d722da5cae0505f286e186 (read through the code index; no full snapshot could be fetched).
 *
 * Read from: src/main/java/com/securosys/simple/sign/client/tsb/Client.java (doRequest: Bearer token,
 * `Content-Type: application/json` on every call, GET with no body; only 200 and 201 are success) and
 * client/tsb/TsbClient.java (createKey: a Jackson map with nulls for the fields not set; createSignature
 * via /v1/synchronousSign reading `signature` and the optional `publicNonce`; doSelfSignedCertificate: an
 * asynchronous self-sign with the CN only in standardCertificateAttributes, certificateAuthority true and
 * DIGITAL_SIGNATURE, then the request polled; getCertFromHsm reads `rawCertificate` of
 * GET /v1/certificate/{label}; generateCertificateSigningRequest without validity; issueSignedCertificate).
 * The key attributes in createKey come from the provider's CreateKeyDto; those used here are an RSA
 * signing key's.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import { b64, conformanceContext, expectStatus, pollRequest, type WireClient, wireClient } from './wire.js';

const P = 'keycloak';
let t: TestContext;
let kc: WireClient;

beforeAll(async () => {
  t = await conformanceContext(P);
  kc = await wireClient(t, P, ['keyManagement', 'keyOperation'], { 'content-type': 'application/json' });
});
afterAll(() => t.close());

/** createKey: every field of the map written, null when not set */
function createKeyBody(label: string) {
  return {
    label,
    password: null,
    algorithm: 'RSA',
    curveOid: null,
    keySize: 2048,
    attributes: { sign: true, decrypt: false, unwrap: false, destroyable: true, extractable: false },
    id: null,
    algorithmOid: null,
    addressFormat: null,
    policy: null,
  };
}

describe('a user key: created, self-signed, read back as rawCertificate, used to sign', () => {
  const label = 'keycloak-user-alice';

  it('createKey: POST /v1/key with nulls for the unset fields', async () => {
    const answer = await kc.send('POST', '/v1/key', { body: createKeyBody(label) });
    expectStatus(answer);
  });

  it('doSelfSignedCertificate: /v1/certificate/selfsign (CN in standardCertificateAttributes, CA with DIGITAL_SIGNATURE), polled to EXECUTED', async () => {
    const answer = await kc.send('POST', '/v1/certificate/selfsign', {
      body: {
        selfSignCertificateRequest: {
          signKeyName: label,
          validity: 3650,
          signatureAlgorithm: 'SHA256_WITH_RSA',
          standardCertificateAttributes: { commonName: 'alice' },
          keyUsage: ['DIGITAL_SIGNATURE'],
          extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
          certificateAuthority: true,
        },
      },
    });
    expectStatus(answer);
    expect(typeof answer.json.signRequestId).toBe('string');
    const request = await pollRequest(kc, answer.json.signRequestId);
    expect(request.json.status, request.text).toBe('EXECUTED');
    expect(typeof request.json.result).toBe('string');
  });

  it('getCertFromHsm: GET /v1/certificate/{label} (JSON content type, no body) has rawCertificate', async () => {
    const answer = await kc.send('GET', `/v1/certificate/${label}`);
    expectStatus(answer);
    expect(typeof answer.json.rawCertificate, `rawCertificate in ${answer.text}`).toBe('string');
  });

  it('createSignature: /v1/synchronousSign reads signature (and publicNonce when present)', async () => {
    const answer = await kc.send('POST', '/v1/synchronousSign', {
      body: {
        signRequest: {
          signKeyName: label,
          keyPassword: null,
          payload: b64('a Keycloak token to sign'),
          signatureAlgorithm: 'SHA256_WITH_RSA',
          signatureType: 'DER',
        },
      },
    });
    expectStatus(answer);
    expect(typeof answer.json.signature).toBe('string');
    if (answer.json.publicNonce != null) expect(typeof answer.json.publicNonce).toBe('string');
  });
});

describe('issueSignedCertificate: a CSR of the user key signed by a CA key', () => {
  it('CSR without validity, then /v1/certificate/synchronous/sign with keyName and standardCertificateAttributes', async () => {
    for (const label of ['keycloak-ca', 'keycloak-user-bob']) {
      expectStatus(await kc.send('POST', '/v1/key', { body: createKeyBody(label) }));
    }
    const caCert = await kc.send('POST', '/v1/certificate/synchronous/selfsign', {
      body: {
        signKeyName: 'keycloak-ca',
        validity: 3650,
        signatureAlgorithm: 'SHA256_WITH_RSA',
        commonName: 'Keycloak CA',
        keyUsage: ['KEY_CERT_SIGN'],
        extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
        certificateAuthority: true,
      },
    });
    expectStatus(caCert);
    const csr = await kc.send('POST', '/v1/certificate/synchronous/request', {
      body: {
        signKeyName: 'keycloak-user-bob',
        signatureAlgorithm: 'SHA256_WITH_RSA',
        standardCertificateAttributes: { commonName: 'bob' },
        keyUsage: ['DIGITAL_SIGNATURE'],
        extendedKeyUsage: ['CLIENT_AUTH'],
      },
    });
    expectStatus(csr);
    expect(typeof csr.json.certificateSigningRequest).toBe('string');
    const issued = await kc.send('POST', '/v1/certificate/synchronous/sign', {
      body: {
        keyName: 'keycloak-user-bob',
        signKeyName: 'keycloak-ca',
        validity: 365,
        signatureAlgorithm: 'SHA256_WITH_RSA',
        standardCertificateAttributes: { commonName: 'bob' },
        certificateSigningRequest: csr.json.certificateSigningRequest,
        keyUsage: ['DIGITAL_SIGNATURE'],
        extendedKeyUsage: ['CLIENT_AUTH'],
        certificateAuthority: false,
      },
    });
    expectStatus(issued);
    const text: string = issued.json.certificate ?? issued.json.rawCertificate;
    expect(typeof text).toBe('string');
    const pem = text.includes('BEGIN')
      ? text
      : `-----BEGIN CERTIFICATE-----\n${text}\n-----END CERTIFICATE-----\n`;
    expect(new X509Certificate(pem).subject).toContain('CN=bob');
  });
});
