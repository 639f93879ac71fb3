/**
 * Issue 14: the certificate calls of the published TSB clients, replayed with their exact bodies and read
 * with exactly the fields they read. Fireblocks external key store agent (TsbService, HelperService),
 * Keycloak Securosys simple sign provider (TsbClient), HashiCorp Vault plugin v1.2.7 (client/certs.go,
 * bodies built by string concatenation). Every certificate made is checked with openssl.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/auth/roles.js';
import type { TestContext } from '../helpers/app.js';
import { createApprover, rule, waitForStatus } from '../helpers/approvers.js';
import { openssl, withScratch } from '../helpers/openssl.js';
import { approveTask, createKey, policyOf, workflowContext } from './workflow/fixtures.js';

const P = 'certificate-clients';
const KO: Role[] = ['keyOperation'];
const SECP256K1 = '1.3.132.0.10';
const ED25519 = '1.3.101.112';
const approver = createApprover('P-256');

let t: TestContext;
beforeAll(async () => {
  t = await workflowContext(P);
  const plain = { decrypt: false, sign: true, unwrap: false };
  const keys: Record<string, object> = {
    FIREBLOCKS_VALIDATION_KEY: { algorithm: 'RSA', keySize: 2048 },
    'fb-asset-k1': { algorithm: 'EC', curveOid: SECP256K1 },
    'fb-asset-ed': { algorithm: 'ED', curveOid: ED25519 },
    'fb-asset-ska': {
      algorithm: 'EC',
      curveOid: SECP256K1,
      policy: policyOf({ ruleUse: rule([{ quorum: 1, approvers: [approver] }]) }),
    },
    'kc-ca': { algorithm: 'RSA', keySize: 2048 },
    'kc-user': { algorithm: 'RSA', keySize: 2048 },
    'kc-leaf': { algorithm: 'RSA', keySize: 2048 },
    'vault-ca': { algorithm: 'RSA', keySize: 2048 },
    'vault-leaf': { algorithm: 'RSA', keySize: 2048 },
  };
  for (const [label, body] of Object.entries(keys)) {
    await createKey(t, P, { label, attributes: plain, ...body });
  }
});
afterAll(() => t?.close());

const post = (url: string, body: unknown) => t.call(P, KO, { method: 'POST', url, body });
/** A body sent as the exact text a client builds (the Vault plugin concatenates strings). */
const postText = async (url: string, text: string) =>
  t.app.inject({
    method: 'POST',
    url,
    headers: { ...(await t.as(P, KO)), 'content-type': 'application/json' },
    payload: text,
  });
const ok = (response: { statusCode: number; body: string; json(): unknown }): Record<string, string> => {
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as Record<string, string>;
};

const inFiles = <T>(files: Record<string, string | Buffer>, work: (dir: string) => Promise<T>) =>
  withScratch(async (dir) => {
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
    return work(dir);
  });
const certificateText = (pem: string) =>
  inFiles({ 'c.pem': pem }, (dir) => openssl(['x509', '-in', 'c.pem', '-noout', '-text'], dir));
/** openssl's days between notBefore and notAfter */
const validityDays = async (pem: string) => {
  const dates = await inFiles({ 'c.pem': pem }, (dir) =>
    openssl(['x509', '-in', 'c.pem', '-noout', '-startdate', '-enddate'], dir),
  );
  const [start, end] = [...dates.matchAll(/=(.+)$/gm)].map((match) => Date.parse(match[1]!));
  return (end! - start!) / 86_400_000;
};
const chains = (caPem: string, leafPem: string) =>
  inFiles({ 'ca.pem': caPem, 'leaf.pem': leafPem }, (dir) =>
    openssl(['verify', '-CAfile', 'ca.pem', 'leaf.pem'], dir),
  );
const heldCertificate = async (label: string) =>
  ok(await t.call(P, KO, { method: 'GET', url: `/v1/certificate/${label}` }));

describe('Fireblocks external key store agent', () => {
  let validationCa = '';

  it('syncSelfSign: the CN only in standardCertificateAttributes, a CA with KEY_CERT_SIGN', async () => {
    // TsbService.syncSelfSign: HashMap body, no top-level commonName
    const answer = await post('/v1/certificate/synchronous/selfsign', {
      signKeyName: 'FIREBLOCKS_VALIDATION_KEY',
      validity: 365,
      signatureAlgorithm: 'SHA256_WITH_RSA',
      certificateAuthority: true,
      standardCertificateAttributes: { commonName: 'FIREBLOCKS_VALIDATION_KEY' },
      keyUsage: ['KEY_CERT_SIGN'],
      extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
    });
    expect(answer.statusCode, answer.body).toBeLessThan(300);
    validationCa = (await heldCertificate('FIREBLOCKS_VALIDATION_KEY')).certificate!;
    const text = await certificateText(validationCa);
    expect(text).toContain('Subject: CN = FIREBLOCKS_VALIDATION_KEY');
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/Key Usage: critical\s+Certificate Sign\n/);
    expect(await validityDays(validationCa)).toBe(365);
    expect(await chains(validationCa, validationCa)).toContain('leaf.pem: OK');
  });

  it.each([
    ['fb-asset-k1', 'SHA256_WITH_ECDSA'],
    ['fb-asset-ed', 'EDDSA'],
  ])(
    'generateSynchronousCertificateRequest (%s) without validity, then signCertificate of that CSR',
    async (label, signatureAlgorithm) => {
      const csrAnswer = ok(
        await post('/v1/certificate/synchronous/request', {
          signKeyName: label,
          signatureAlgorithm,
          standardCertificateAttributes: { commonName: label },
          keyUsage: ['DIGITAL_SIGNATURE'],
          extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
        }),
      );
      const csr = csrAnswer.certificateSigningRequest!;
      await inFiles({ 'r.csr': csr }, async (dir) => {
        expect(await openssl(['req', '-in', 'r.csr', '-verify', '-noout'], dir)).toMatch(/verify OK/);
        expect(await openssl(['req', '-in', 'r.csr', '-noout', '-subject'], dir)).toBe(
          `subject=CN = ${label}\n`,
        );
      });
      // the key's self-signed certificate has the TSB's default validity
      expect(await validityDays((await heldCertificate(label)).certificate!)).toBe(365);

      // HelperService.signCsr → TsbService.signCertificate: the CA key's label as commonName in the attributes
      const signed = ok(
        await post('/v1/certificate/synchronous/sign', {
          signKeyName: 'FIREBLOCKS_VALIDATION_KEY',
          signatureAlgorithm: 'SHA256_WITH_RSA',
          standardCertificateAttributes: { commonName: 'FIREBLOCKS_VALIDATION_KEY' },
          validity: 365,
          certificateAuthority: false,
          certificateSigningRequest: csr,
          keyUsage: ['DIGITAL_SIGNATURE'],
          extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
        }),
      );
      const leaf = signed.certificate!;
      expect(await chains(validationCa, leaf)).toContain('leaf.pem: OK');
      const text = await certificateText(leaf);
      expect(text).toContain('Issuer: CN = FIREBLOCKS_VALIDATION_KEY');
      // the leaf certifies the asset key under the asset key's name, not under the CA's own name
      expect(text).toContain(`Subject: CN = ${label}`);
      expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      const leafKey = await inFiles({ 'c.pem': leaf }, (dir) =>
        openssl(['x509', '-in', 'c.pem', '-noout', '-pubkey'], dir),
      );
      const csrKey = await inFiles({ 'r.csr': csr }, (dir) =>
        openssl(['req', '-in', 'r.csr', '-noout', '-pubkey'], dir),
      );
      expect(leafKey).toBe(csrKey);
    },
  );

  it('generateCertificateRequest: csrSignRequest without validity for an SKA key; the approved result is the CSR', async () => {
    const created = await post('/v1/certificate/request', {
      csrSignRequest: {
        signKeyName: 'fb-asset-ska',
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
        standardCertificateAttributes: { commonName: 'fb-asset-ska' },
        keyUsage: ['DIGITAL_SIGNATURE'],
        extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().signRequestId as string;
    await approveTask(t, P, approver, id);
    const done = await waitForStatus(t, P, id, ['EXECUTED', 'FAILED']);
    expect(done['status'], JSON.stringify(done)).toBe('EXECUTED');
    const csr = String(done['result']);
    await inFiles({ 'r.csr': csr }, async (dir) => {
      expect(await openssl(['req', '-in', 'r.csr', '-verify', '-noout'], dir)).toMatch(/verify OK/);
    });
    expect(await validityDays((await heldCertificate('fb-asset-ska')).certificate!)).toBe(365);
    const signed = ok(
      await post('/v1/certificate/synchronous/sign', {
        signKeyName: 'FIREBLOCKS_VALIDATION_KEY',
        signatureAlgorithm: 'SHA256_WITH_RSA',
        standardCertificateAttributes: { commonName: 'FIREBLOCKS_VALIDATION_KEY' },
        validity: 365,
        certificateAuthority: false,
        certificateSigningRequest: csr,
        keyUsage: ['DIGITAL_SIGNATURE'],
        extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
      }),
    );
    expect(await chains(validationCa, signed.certificate!)).toContain('leaf.pem: OK');
  });
});

describe('Keycloak Securosys simple sign provider', () => {
  /** TsbClient.getCertFromHsm: reads `rawCertificate` and strips PEM armour if there is any */
  const rawCertificate = async (label: string) => {
    const body = await heldCertificate(label);
    expect(typeof body.rawCertificate).toBe('string');
    return body.rawCertificate!;
  };

  it('doSelfSignedCertificate (CA without KEY_CERT_SIGN, CN in the attributes) and getCertFromHsm', async () => {
    const answer = await post('/v1/certificate/synchronous/selfsign', {
      signKeyName: 'kc-user',
      validity: 3650,
      signatureAlgorithm: 'SHA256_WITH_RSA',
      standardCertificateAttributes: { commonName: 'alice' },
      keyUsage: ['DIGITAL_SIGNATURE'],
      extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
      certificateAuthority: true,
    });
    expect(answer.statusCode, answer.body).toBeLessThan(300);
    const raw = await rawCertificate('kc-user');
    // base64 DER, no armour: what the provider hands to Keycloak as the user's certificate
    expect(raw).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const der = Buffer.from(raw, 'base64');
    const text = await inFiles({ 'c.der': der }, (dir) =>
      openssl(['x509', '-inform', 'DER', '-in', 'c.der', '-noout', '-text'], dir),
    );
    expect(text).toContain('Subject: CN = alice');
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    // certificateAuthority true implies keyCertSign next to the usage asked for
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign\n/);
    const held = await heldCertificate('kc-user');
    expect(held.certificate).toContain('-----BEGIN CERTIFICATE-----');
    expect(held.label).toBe('kc-user');
    const pemDer = Buffer.from(held.certificate!.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    expect(pemDer.equals(der)).toBe(true);
  });

  it('issueSignedCertificate: a CSR without validity, then sign with keyName and attributes', async () => {
    const selfSigned = await post('/v1/certificate/synchronous/selfsign', {
      signKeyName: 'kc-ca',
      validity: 3650,
      signatureAlgorithm: 'SHA256_WITH_RSA',
      standardCertificateAttributes: { commonName: 'Keycloak Realm CA' },
      keyUsage: ['DIGITAL_SIGNATURE'],
      extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
      certificateAuthority: true,
    });
    expect(selfSigned.statusCode, selfSigned.body).toBeLessThan(300);
    const attributes = { commonName: 'bob', organizationName: 'Example AG', country: 'CH' };
    const csrAnswer = ok(
      await post('/v1/certificate/synchronous/request', {
        signKeyName: 'kc-leaf',
        signatureAlgorithm: 'SHA256_WITH_RSA',
        standardCertificateAttributes: attributes,
        keyUsage: ['DIGITAL_SIGNATURE'],
        extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
      }),
    );
    const signed = ok(
      await post('/v1/certificate/synchronous/sign', {
        keyName: 'kc-leaf',
        signKeyName: 'kc-ca',
        validity: 3650,
        signatureAlgorithm: 'SHA256_WITH_RSA',
        standardCertificateAttributes: attributes,
        certificateSigningRequest: csrAnswer.certificateSigningRequest,
        keyUsage: ['DIGITAL_SIGNATURE'],
        extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
        certificateAuthority: false,
      }),
    );
    const caPem = (await heldCertificate('kc-ca')).certificate!;
    expect(await chains(caPem, signed.certificate!)).toContain('leaf.pem: OK');
    const text = await certificateText(signed.certificate!);
    expect(text).toContain('Subject: C = CH, O = Example AG, CN = bob');
    expect(text).toContain('Issuer: CN = Keycloak Realm CA');
    expect(await validityDays(signed.certificate!)).toBe(3650);
  });
  it('issueSignedCertificate without a commonName in its options: empty attributes keep the CSR’s subject', async () => {
    const csr = ok(
      await post('/v1/certificate/synchronous/request', {
        signKeyName: 'kc-leaf',
        signatureAlgorithm: 'SHA256_WITH_RSA',
        standardCertificateAttributes: { commonName: 'carol' },
        keyUsage: ['DIGITAL_SIGNATURE'],
        extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
      }),
    ).certificateSigningRequest!;
    const signed = ok(
      await post('/v1/certificate/synchronous/sign', {
        keyName: 'kc-leaf',
        signKeyName: 'kc-ca',
        validity: 3650,
        signatureAlgorithm: 'SHA256_WITH_RSA',
        standardCertificateAttributes: {},
        certificateSigningRequest: csr,
        keyUsage: ['DIGITAL_SIGNATURE'],
        extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
        certificateAuthority: false,
      }),
    );
    const caPem = (await heldCertificate('kc-ca')).certificate!;
    expect(await chains(caPem, signed.certificate!)).toContain('leaf.pem: OK');
    expect(await certificateText(signed.certificate!)).toContain('Subject: CN = carol');
  });
});

describe('HashiCorp Vault plugin v1.2.7', () => {
  let caPem = '';

  it('CreateSelfSignedCertificate with the plugin’s default certificateAuthority true and no usages', async () => {
    // certs.go: keyUsage/extendedKeyUsage are json.Marshal of empty slices
    const answer = await postText(
      '/v1/certificate/synchronous/selfsign',
      `{
		  "signKeyName": "vault-ca",
		  "signatureAlgorithm": "SHA256_WITH_RSA",
		  "validity": 365,
		  "commonName": "Vault CA",
		  "keyUsage": [],
		  "extendedKeyUsage": [],
		  "certificateAuthority": true
	  }`,
    );
    caPem = ok(answer).certificate!;
    expect(await certificateText(caPem)).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
  });

  /** SignCertificate's body, as certs.go concatenates it (usages joined into one string) */
  const signBody = (csr: string, keyUsage: string, certificateAuthority: string | null) =>
    `{
		  "signKeyName": "vault-ca",
		  "signatureAlgorithm": "SHA256_WITH_RSA",
		  "commonName": "vault-leaf",
		  "certificateSigningRequest": ${JSON.stringify(csr)},
		  "keyUsage": ["${keyUsage}"],
		  "extendedKeyUsage": [""]${certificateAuthority === null ? '' : `,\n\t\t  "certificateAuthority": ${certificateAuthority}`}

	  }`;

  const vaultCsr = async () =>
    ok(
      await post('/v1/certificate/synchronous/request', {
        signKeyName: 'vault-leaf',
        signatureAlgorithm: 'SHA256_WITH_RSA',
        validity: 365,
        standardCertificateAttributes: {
          commonName: 'vault-leaf',
          country: null,
          stateOrProvinceName: null,
          locality: null,
          organizationName: null,
          organizationUnitName: null,
          email: null,
          title: null,
          surname: null,
          givenName: null,
          initials: null,
          pseudonym: null,
          generationQualifier: null,
        },
        keyUsage: ['DIGITAL_SIGNATURE,KEY_ENCIPHERMENT'],
        extendedKeyUsage: ['CLIENT_AUTH'],
      }),
    ).certificateSigningRequest!;

  it('SignCertificate with the plugin’s default certificateAuthority true and DIGITAL_SIGNATURE: an intermediate CA', async () => {
    const issued = ok(
      await postText(
        '/v1/certificate/synchronous/sign',
        signBody(await vaultCsr(), 'DIGITAL_SIGNATURE', 'true'),
      ),
    ).certificate!;
    expect(await chains(caPem, issued)).toContain('leaf.pem: OK');
    const text = await certificateText(issued);
    expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign\n/);
  });

  it('SignCertificate with certificateAuthority false, or absent: a leaf (CA:FALSE)', async () => {
    for (const flag of ['false', null]) {
      const issued = ok(
        await postText('/v1/certificate/synchronous/sign', signBody(await vaultCsr(), '', flag)),
      ).certificate!;
      expect(await chains(caPem, issued)).toContain('leaf.pem: OK');
      const text = await certificateText(issued);
      expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(text).not.toContain('Key Usage');
      expect(text).toContain('Subject: CN = vault-leaf');
    }
  });

  it('GetCertificate: label and certificate', async () => {
    const held = await heldCertificate('vault-ca');
    expect(held.label).toBe('vault-ca');
    expect(held.certificate).toBe(caPem);
  });
});
