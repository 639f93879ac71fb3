/**
 * Conformance: securosys-com/hcvault-plugin-secrets-engine v1.2.7 (commit
 * f4d55be1facc23b1e49924912b79a6bf5014c4a7), the HashiCorp Vault secrets plugin, whose v1.2.x builds its
 * own request bodies (from v1.3 it calls tsb-client-go, covered by tsb-client-go.test.ts).
 *
 * Read from: client/TSBClient.go (doRequest: `Content-Type: application/json` on every call; success is
 * 200 or 201), client/key.go (CreateOrUpdateKey; GetKey's type assertions, `algorithmOid` as a string for
 * every key type; RemoveKey is `DELETE /v1/key/{label}` without a body), client/certs.go (SignCertificate
 * with a top-level commonName and `certificateAuthority`, CreateCertificate), backend/path_hsm_key_rsa.go
 * and path_hsm_key_dsa.go (key sizes 1024 to 4096, 1024 and 2048), and integrationTests/tests
 * (c_create_*_key_test.go: the key types and sizes its suite creates).
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import { conformanceContext, expectKind, expectStatus, type WireClient, wireClient } from './wire.js';

const P = 'vault';
let t: TestContext;
let vault: WireClient;

beforeAll(async () => {
  t = await conformanceContext(P);
  vault = await wireClient(t, P, ['keyManagement', 'keyOperation', 'service'], {
    'content-type': 'application/json',
  });
});
afterAll(() => t.close());

/** the attributes a Vault user passes, marshalled as a Go map (keys sorted) */
const ATTRIBUTES = '{"decrypt":true,"destroyable":true,"extractable":false,"sign":true,"unwrap":true}';

function createBody(label: string, algorithm: string, keySize: number, curveOid = ''): string {
  const size = keySize === 0 ? '' : `"keySize": ${keySize},`;
  const curve = curveOid === '' ? '' : `"curveOid": "${curveOid}",`;
  // no simplePolicy given: the plugin marshals a nil *Policy, "policy":null
  return `{\n\t"label": "${label}",\n    "algorithm": "${algorithm}",\t\n    \n\t${size}\n\t${curve}\n\t"attributes": ${ATTRIBUTES},"policy":null}`;
}

/** GetKey: Go type assertions, a panic of the plugin when a field has another type */
async function getKey(label: string) {
  const answer = await vault.send('POST', '/v1/key/attributes', {
    body: `{\n\t\t\t"label":"${label}"\n\t\t}`,
  });
  expectStatus(answer);
  const { json } = answer.json;
  expectKind(json.algorithm, 'string', 'json.algorithm');
  expectKind(json.algorithmOid, 'string', 'json.algorithmOid');
  expect(json.id ?? null, 'json.id must be null or absent').toBeNull();
  expectKind(json.attributes, 'object', 'json.attributes');
  expectKind(answer.json.xml, 'string', 'xml');
  expectKind(answer.json.xmlSignature, 'string', 'xmlSignature');
  expectKind(answer.json.attestationKeyName, 'string', 'attestationKeyName');
  expectKind(json.label, 'string', 'json.label');
  return json;
}

describe('integrationTests c_create_*_key: create, read (GetKey), delete (DELETE without a body)', () => {
  const cases: Array<[string, number, string]> = [
    ['AES', 128, ''],
    ['AES', 192, ''],
    ['AES', 256, ''],
    ['Camellia', 256, ''],
    ['ChaCha20', 256, ''],
    ['TDEA', 0, ''],
    ['RSA', 1024, ''],
    ['RSA', 2048, ''],
    ['DSA', 1024, ''],
    ['DSA', 2048, ''],
    ['EC', 0, '1.2.840.10045.3.1.7'],
    ['ED', 0, '1.3.101.112'],
    ['BLS', 0, ''],
  ];
  for (const [algorithm, keySize, curveOid] of cases) {
    it(`${algorithm}${keySize ? ` ${keySize}` : ''}`, async () => {
      const label = `vault-${algorithm}-${keySize}`.toLowerCase();
      const created = await vault.send('POST', '/v1/key', {
        body: createBody(label, algorithm, keySize, curveOid),
      });
      expectStatus(created);
      const json = await getKey(label);
      expect(json.algorithm).toBe(algorithm);
      const removed = await vault.send('DELETE', `/v1/key/${label}`);
      expectStatus(removed);
      const gone = await vault.send('POST', '/v1/key/attributes', { body: `{"label":"${label}"}` });
      expect([200, 201], 'the key is gone after the DELETE').not.toContain(gone.status);
    });
  }
});

describe('client/certs.go', () => {
  it('SignCertificate with "certificateAuthority": false issues an end-entity certificate', async () => {
    for (const label of ['vault-ca', 'vault-leaf']) {
      const created = await vault.send('POST', '/v1/key', { body: createBody(label, 'RSA', 2048) });
      expectStatus(created);
    }
    // CreateSelfSignedCertificate: the issuing key gets its CA certificate first
    const ca = await vault.send('POST', '/v1/certificate/synchronous/selfsign', {
      body: `{\n\t\t  "signKeyName": "vault-ca",\n\t\t  "signatureAlgorithm": "SHA256_WITH_RSA",\n\t\t  "validity": 365,\n\t\t  "commonName": "vault-ca",\n\t\t  "keyUsage": ["KEY_CERT_SIGN"],\n\t\t  "extendedKeyUsage": ["ANY_EXTENDED_KEY_USAGE"],\n\t\t  "certificateAuthority": true\n\t  }`,
    });
    expectStatus(ca);
    const csr = await vault.send('POST', '/v1/certificate/synchronous/request', {
      body: `{\n\t\t  "signKeyName": "vault-leaf",\n\t\t  "signatureAlgorithm": "SHA256_WITH_RSA",\n\t\t  "validity": 365,\n\t\t  "standardCertificateAttributes":{"commonName":"vault-leaf","country":null,"stateOrProvinceName":null,"locality":null,"organizationName":null,"organizationUnitName":null,"email":null,"title":null,"surname":null,"givenName":null,"initials":null,"pseudonym":null,"generationQualifier":null},\n\t\t  "keyUsage": ["DIGITAL_SIGNATURE"],\n\t\t  "extendedKeyUsage": ["CLIENT_AUTH"]\n\t  }`,
    });
    expectStatus(csr);
    expectKind(csr.json.certificateSigningRequest, 'string', 'certificateSigningRequest');
    const signed = await vault.send('POST', '/v1/certificate/synchronous/sign', {
      body: `{\n\t\t  "signKeyName": "vault-ca",\n\t\t  "signatureAlgorithm": "SHA256_WITH_RSA",\n\t\t  "commonName": "vault-leaf",\n\t\t  "certificateSigningRequest": "${csr.json.certificateSigningRequest.replace(/\n/g, '\\n')}",\n\t\t  "keyUsage": ["DIGITAL_SIGNATURE"],\n\t\t  "extendedKeyUsage": ["CLIENT_AUTH"],\n\t\t  "certificateAuthority": false\n\n\t  }`,
    });
    expectStatus(signed);
    expectKind(signed.json.certificate, 'string', 'certificate');
    const pem = signed.json.certificate.includes('BEGIN')
      ? signed.json.certificate
      : `-----BEGIN CERTIFICATE-----\n${signed.json.certificate}\n-----END CERTIFICATE-----\n`;
    expect(new X509Certificate(pem).ca, 'certificateAuthority:false gives no CA certificate').toBe(false);
  });
});
