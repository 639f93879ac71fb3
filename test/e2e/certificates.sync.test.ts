import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/auth/roles.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { openssl, withScratch } from '../helpers/openssl.js';

let t: TestContext;
const P = 'certificates';
const RO = 'certificates-read-only';
const KO: Role[] = ['keyOperation'];
const signOnly = { decrypt: false, sign: true, unwrap: false };
const fixture = async (name: string) =>
  JSON.parse(await readFile(path.join(import.meta.dirname, '../fixtures/tsb-examples', name), 'utf8'));

/** The DER inside a PEM text. */
const pemBytes = (pem: string) =>
  Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

const KEYS: Record<string, object> = {
  rsa: { algorithm: 'RSA', keySize: 2048 },
  p256: { algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7' },
  ed: { algorithm: 'ED', curveOid: '1.3.101.112' },
  ca: { algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7' },
  bare: { algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7' },
  sub_certificate_key: { algorithm: 'RSA', keySize: 2048 },
  protected: { algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7', password: 'open sesame' },
  'no-sign': {
    algorithm: 'EC',
    curveOid: '1.2.840.10045.3.1.7',
    attributes: { decrypt: true, sign: false, unwrap: false },
  },
  hmac: { algorithm: 'HMACSHA256', keySize: 256 },
};

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  await Promise.all(
    Object.entries(KEYS).map(async ([label, body]) => {
      const response = await t.call(P, ['keyManagement'], {
        method: 'POST',
        url: '/v1/key',
        body: { label, attributes: signOnly, ...body },
      });
      expect(response.statusCode, response.body).toBe(201);
    }),
  );
  const readOnly = await t.partition(RO);
  const created = await t.call(RO, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: { label: 'ro', algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7', attributes: signOnly },
  });
  expect(created.statusCode, created.body).toBe(201);
  await t.hsm.partitions.updateFlags(readOnly.id, { readOnly: true });
});
afterAll(() => t.close());

const post = (url: string, body: unknown, partition = P) =>
  t.call(partition, KO, { method: 'POST', url, body });
const expectError = (
  response: { statusCode: number; body: string; json(): { errorCode: number } },
  status: number,
  code: number,
) => {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.json().errorCode, response.body).toBe(code);
};

const ATTRIBUTES = {
  commonName: 'Payments Signer 01',
  country: 'CH',
  stateOrProvinceName: 'Zurich',
  locality: 'Zürich',
  organizationName: 'Example Bank AG',
  organizationUnitName: 'Treasury',
  organizationIdentifier: 'VATCH-CHE123456789',
  email: 'pki@example.ch',
  title: 'Signing Officer',
  surname: 'Muster',
  givenName: 'Anna',
  initials: 'AM',
  pseudonym: 'am01',
  generationQualifier: 'Jr.',
};

const csrBody = (signKeyName: string, signatureAlgorithm: string, extra: object = {}) => ({
  signKeyName,
  signatureAlgorithm,
  validity: 30,
  standardCertificateAttributes: ATTRIBUTES,
  keyUsage: ['DIGITAL_SIGNATURE', 'CONTENT_COMMITMENT'],
  extendedKeyUsage: ['CLIENT_AUTH', 'EMAIL_PROTECTION'],
  ...extra,
});

/** Writes the files into a scratch folder and runs `work` there. */
const inFiles = <T>(files: Record<string, string | Buffer>, work: (dir: string) => Promise<T>) =>
  withScratch(async (dir) => {
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
    return work(dir);
  });

const keyPublicKeyPem = async (label: string) => {
  const response = await t.call(P, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key/attributes',
    body: { label, ...(label === 'protected' ? { password: 'open sesame' } : {}) },
  });
  const spki = Buffer.from(response.json().json.publicKey, 'base64');
  return `-----BEGIN PUBLIC KEY-----\n${spki.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END PUBLIC KEY-----\n`;
};
const useCount = async (label: string) =>
  (
    await t.call(P, ['keyManagement'], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label, ...(label === 'protected' ? { password: 'open sesame' } : {}) },
    })
  ).json().json.keyUsageCount as number;

describe('POST /v1/certificate/synchronous/request (CSR)', () => {
  it.each([
    ['rsa', 'SHA256_WITH_RSA', 'sha256WithRSAEncryption'],
    ['p256', 'SHA384_WITH_ECDSA', 'ecdsa-with-SHA384'],
    ['ed', 'EDDSA', 'ED25519'],
  ])(
    'a %s key with %s: openssl verifies the CSR and shows every subject field and extension',
    async (label, algorithm, opensslName) => {
      const before = await useCount(label);
      const response = await post('/v1/certificate/synchronous/request', csrBody(label, algorithm));
      expect(response.statusCode, response.body).toBe(200);
      const { label: answered, certificateSigningRequest: csr } = response.json();
      expect(answered).toBe(label);
      expect(csr).toMatch(
        /^-----BEGIN NEW CERTIFICATE REQUEST-----\n[A-Za-z0-9+/=\n]+-----END NEW CERTIFICATE REQUEST-----\n$/,
      );
      const publicKey = await keyPublicKeyPem(label);

      await inFiles({ 'csr.pem': csr, 'key.pem': publicKey }, async (dir) => {
        expect(await openssl(['req', '-in', 'csr.pem', '-verify', '-noout'], dir)).toMatch(/verify OK/);
        const text = await openssl(
          ['req', '-in', 'csr.pem', '-noout', '-text', '-nameopt', 'RFC2253,-esc_msb'],
          dir,
        );
        expect(text).toContain(`Signature Algorithm: ${opensslName}`);
        for (const part of [
          'C=CH',
          'ST=Zurich',
          'L=Zürich',
          'O=Example Bank AG',
          'OU=Treasury',
          'organizationIdentifier=VATCH-CHE123456789',
          'title=Signing Officer',
          'SN=Muster',
          'GN=Anna',
          'initials=AM',
          'generationQualifier=Jr.',
          'pseudonym=am01',
          'CN=Payments Signer 01',
          'emailAddress=pki@example.ch',
        ]) {
          expect(text).toContain(part);
        }
        expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation/);
        expect(text).toMatch(
          /X509v3 Extended Key Usage: critical\s+TLS Web Client Authentication, E-mail Protection/,
        );
        expect(text).toContain('X509v3 Subject Key Identifier');
        // the CSR carries the key's own public key
        expect(await openssl(['req', '-in', 'csr.pem', '-noout', '-pubkey'], dir)).toBe(publicKey);
      });

      // afterwards the key holds a self-signed certificate of the same subject and key
      const held = await t.call(P, KO, { method: 'GET', url: `/v1/certificate/${label}` });
      expect(held.statusCode, held.body).toBe(200);
      await inFiles({ 'cert.pem': held.json().certificate, 'csr.pem': csr }, async (dir) => {
        const subject = (file: string, kind: 'x509' | 'req') =>
          openssl([kind, '-in', file, '-noout', '-subject', '-nameopt', 'RFC2253'], dir);
        expect(await subject('cert.pem', 'x509')).toBe(await subject('csr.pem', 'req'));
        expect(await openssl(['x509', '-in', 'cert.pem', '-noout', '-pubkey'], dir)).toBe(publicKey);
        expect(
          await openssl(['x509', '-in', 'cert.pem', '-noout', '-ext', 'keyUsage,extendedKeyUsage'], dir),
        ).toMatch(
          /Key Usage: critical\s+Digital Signature, Non Repudiation[\s\S]*Extended Key Usage: critical/,
        );
        const dates = await openssl(['x509', '-in', 'cert.pem', '-noout', '-startdate', '-enddate'], dir);
        const [start, end] = [...dates.matchAll(/=(.+)/g)].map((match) => Date.parse(match[1]!));
        expect(end! - start!).toBe(30 * 86_400_000);
      });
      // one use of the key per operation, as a synchronous sign counts it
      expect(await useCount(label)).toBe(before + 1);
    },
  );

  it('answers the TSB sample 28 with the subject and keyUsage bytes of the TSB’s own CSR (sample 29)', async () => {
    const response = await post(
      '/v1/certificate/synchronous/request',
      await fixture('28-csr-synchronous-request.json'),
    );
    expect(response.statusCode, response.body).toBe(200);
    const ours = pemBytes(response.json().certificateSigningRequest);
    const theirs = pemBytes((await fixture('29-csr-synchronous-response.json')).certificateSigningRequest);
    // `openssl asn1parse` of sample 29: the subject Name is the element at offset 11 (2 + 119 bytes)
    const subject = theirs.subarray(11, 132);
    expect(subject.subarray(0, 2).toString('hex')).toBe('3077');
    expect(ours.includes(subject)).toBe(true);
    // keyUsage critical digitalSignature, as the TSB encodes it
    const keyUsage = Buffer.from('300e0603551d0f0101ff040403020780', 'hex');
    expect(theirs.includes(keyUsage)).toBe(true);
    expect(ours.includes(keyUsage)).toBe(true);
  });

  it('downloads the CSR as a PEM file', async () => {
    const response = await post(
      '/v1/certificate/synchronous/request/download',
      csrBody('p256', 'SHA256_WITH_ECDSA'),
    );
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('application/x-pem-file');
    expect(response.headers['content-disposition']).toBe('attachment; filename="p256.csr"');
    expect(response.body).toMatch(/^-----BEGIN NEW CERTIFICATE REQUEST-----\n/);
    await inFiles({ 'p256.csr': response.body }, async (dir) => {
      expect(await openssl(['req', '-in', 'p256.csr', '-verify', '-noout'], dir)).toMatch(/verify OK/);
    });
  });
});

describe('self-signed CA and certificates it issues', () => {
  let caPem = '';

  it('POST /v1/certificate/synchronous/selfsign: a CA certificate openssl verifies against itself', async () => {
    const response = await post('/v1/certificate/synchronous/selfsign', {
      signKeyName: 'ca',
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
      validity: 365,
      commonName: 'OpenTSB Test Root CA',
      certificateAuthority: true,
      keyUsage: ['KEY_CERT_SIGN', 'CRL_SIGN', 'DIGITAL_SIGNATURE'],
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().label).toBe('ca');
    caPem = response.json().certificate;
    expect(caPem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    await inFiles({ 'ca.pem': caPem }, async (dir) => {
      expect(await openssl(['verify', '-CAfile', 'ca.pem', 'ca.pem'], dir)).toContain('ca.pem: OK');
      const text = await openssl(['x509', '-in', 'ca.pem', '-noout', '-text'], dir);
      expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
      expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
      expect(text).toContain('Subject: CN = OpenTSB Test Root CA');
      expect(text).toContain('Issuer: CN = OpenTSB Test Root CA');
      expect(text).toContain('X509v3 Authority Key Identifier');
    });
    const held = await t.call(P, KO, { method: 'GET', url: '/v1/certificate/ca' });
    expect(held.json()).toEqual({
      label: 'ca',
      certificate: caPem,
      rawCertificate: pemBytes(caPem).toString('base64'),
    });
  });

  it('the older path /v1/certificate/synchronous/create/selfSigned does the same (without CA flag: CA:FALSE)', async () => {
    const response = await post('/v1/certificate/synchronous/create/selfSigned', {
      signKeyName: 'bare',
      signatureAlgorithm: 'SHA512_WITH_ECDSA',
      validity: 1,
      commonName: 'not a CA',
      keyUsage: ['DIGITAL_SIGNATURE'],
      extendedKeyUsage: ['ANY_EXTENDED_KEY_USAGE'],
    });
    expect(response.statusCode, response.body).toBe(200);
    await inFiles({ 'c.pem': response.json().certificate }, async (dir) => {
      const text = await openssl(['x509', '-in', 'c.pem', '-noout', '-text'], dir);
      expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(text).toContain('Signature Algorithm: ecdsa-with-SHA512');
      // RFC 5280 §4.2.1.12: anyExtendedKeyUsage is not marked critical
      expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+Any Extended Key Usage/);
    });
    // the key's certificate is no CA certificate: it cannot issue
    const refused = await signLeaf('bare', await opensslCsr('/CN=refused'));
    expectError(refused, 400, 402);
    expect(refused.json().message).toMatch(/not a CA certificate/);
  });

  /** A fresh RSA key and CSR made by openssl (with a subjectAltName); answers the CSR PEM. */
  const opensslCsr = (subject: string) =>
    withScratch(async (dir) => {
      await openssl(
        [
          'req',
          '-new',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          'leaf.key',
          '-out',
          'leaf.csr',
          '-subj',
          subject,
          '-addext',
          'subjectAltName=DNS:leaf.example,DNS:www.leaf.example',
        ],
        dir,
      );
      return readFile(path.join(dir, 'leaf.csr'), 'utf8');
    });
  const signLeaf = (signKeyName: string, csr: string, extra: object = {}) =>
    post('/v1/certificate/synchronous/sign', {
      signKeyName,
      signatureAlgorithm: 'SHA384_WITH_ECDSA',
      certificateSigningRequest: csr,
      keyUsage: ['DIGITAL_SIGNATURE', 'KEY_ENCIPHERMENT'],
      extendedKeyUsage: ['SERVER_AUTH'],
      validity: 10,
      ...extra,
    });

  it('POST /v1/certificate/synchronous/sign: an openssl CSR becomes a leaf that openssl verifies under the CA', async () => {
    const csr = await opensslCsr('/CN=leaf.example/O=Example');
    const before = await useCount('ca');
    const response = await signLeaf('ca', csr);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().label).toBe('ca');
    const leaf = response.json().certificate as string;
    await inFiles({ 'ca.pem': caPem, 'leaf.pem': leaf, 'leaf.csr': csr }, async (dir) => {
      expect(await openssl(['verify', '-CAfile', 'ca.pem', 'leaf.pem'], dir)).toContain('leaf.pem: OK');
      expect(
        await openssl(['verify', '-purpose', 'sslserver', '-CAfile', 'ca.pem', 'leaf.pem'], dir),
      ).toContain('OK');
      // the leaf certifies the CSR's key, not the CA's
      expect(await openssl(['x509', '-in', 'leaf.pem', '-noout', '-pubkey'], dir)).toBe(
        await openssl(['req', '-in', 'leaf.csr', '-noout', '-pubkey'], dir),
      );
      const text = await openssl(['x509', '-in', 'leaf.pem', '-noout', '-text'], dir);
      expect(text).toContain('Subject: CN = leaf.example, O = Example');
      expect(text).toContain('Issuer: CN = OpenTSB Test Root CA');
      expect(text).toContain('Signature Algorithm: ecdsa-with-SHA384');
      expect(text).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Encipherment/);
      expect(text).toMatch(/Extended Key Usage: critical\s+TLS Web Server Authentication/);
      expect(text).toMatch(/Subject Alternative Name: \s+DNS:leaf.example, DNS:www.leaf.example/);
      // authorityKeyIdentifier of the leaf = subjectKeyIdentifier of the CA
      const caKeyId = (
        await openssl(['x509', '-in', 'ca.pem', '-noout', '-ext', 'subjectKeyIdentifier'], dir)
      )
        .split('\n')[1]!
        .trim();
      expect(text).toContain(caKeyId);
      const dates = await openssl(['x509', '-in', 'leaf.pem', '-noout', '-startdate', '-enddate'], dir);
      const [start, end] = [...dates.matchAll(/=(.+)/g)].map((match) => Date.parse(match[1]!));
      expect(end! - start!).toBe(10 * 86_400_000);
    });
    expect(await useCount('ca')).toBe(before + 1);
    // issuing stores nothing on the CA key
    expect((await t.call(P, KO, { method: 'GET', url: '/v1/certificate/ca' })).json().certificate).toBe(
      caPem,
    );
  });

  it('commonName sets the CN of the CSR’s subject; standardCertificateAttributes replace the subject', async () => {
    const csr = await opensslCsr('/O=Example/CN=asked-for');
    const renamed = await signLeaf('ca', csr, { commonName: 'granted' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    const replaced = await signLeaf('ca', csr, {
      standardCertificateAttributes: { commonName: 'x', country: 'CH', organizationName: 'Other AG' },
      commonName: 'y',
    });
    expect(replaced.statusCode, replaced.body).toBe(200);
    await inFiles(
      { 'a.pem': renamed.json().certificate, 'b.pem': replaced.json().certificate, 'ca.pem': caPem },
      async (dir) => {
        expect(await openssl(['x509', '-in', 'a.pem', '-noout', '-subject'], dir)).toBe(
          'subject=O = Example, CN = granted\n',
        );
        expect(await openssl(['x509', '-in', 'b.pem', '-noout', '-subject'], dir)).toBe(
          'subject=C = CH, O = Other AG, CN = y\n',
        );
        expect(await openssl(['verify', '-CAfile', 'ca.pem', 'a.pem', 'b.pem'], dir)).toMatch(
          /a.pem: OK\nb.pem: OK/,
        );
      },
    );
  });

  it('refuses a CSR whose signature is broken (411) and one that is no CSR (628)', async () => {
    const csr = await opensslCsr('/CN=tampered');
    const der = pemBytes(csr);
    der[der.length - 10]! ^= 0x01; // inside the signature BIT STRING
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expectError(await signLeaf('ca', tampered), 400, 411);
    // a changed subject with the old signature
    const renamed = Buffer.from(der);
    renamed[der.indexOf(Buffer.from('tampered'))] = 0x54; // 't' → 'T'
    renamed[der.length - 10]! ^= 0x01;
    expectError(await signLeaf('ca', renamed.toString('base64')), 400, 411);
    expectError(await signLeaf('ca', 'hello'), 400, 628);
    expectError(await signLeaf('ca', caPem), 400, 628);
    expectError(await signLeaf('ca', Buffer.from('0\x03\x02\x01\x00').toString('base64')), 400, 628);
  });

  it('refuses to issue under a key without a certificate, telling to self-sign first', async () => {
    await t.call(P, KO, { method: 'DELETE', url: '/v1/certificate/rsa' });
    const response = await signLeaf('rsa', await opensslCsr('/CN=x'), {
      signatureAlgorithm: 'SHA256_WITH_RSA',
    });
    expectError(response, 400, 402);
    expect(response.json().message).toMatch(/self-sign it first/);
  });

  it('import/plain: a CA-issued certificate of an HSM key is stored on it; a foreign key’s certificate is refused', async () => {
    const csr = (
      await post('/v1/certificate/synchronous/request', csrBody('p256', 'SHA256_WITH_ECDSA'))
    ).json().certificateSigningRequest;
    const issued = (await signLeaf('ca', csr, { extendedKeyUsage: ['CLIENT_AUTH'] })).json()
      .certificate as string;
    const der = pemBytes(issued);

    const imported = await post('/v1/certificate/import/plain', {
      label: 'p256',
      certificate: der.toString('base64'),
    });
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toEqual({ label: 'p256', certificate: issued });
    expect((await t.call(P, KO, { method: 'GET', url: '/v1/certificate/p256' })).json().certificate).toBe(
      issued,
    );

    const foreign = await post('/v1/certificate/import/plain', {
      label: 'ed',
      certificate: der.toString('base64'),
    });
    expectError(foreign, 400, 402);
    expect(foreign.json().message).toMatch(/not the public key of key "ed"/);
    expectError(
      await post('/v1/certificate/import/plain', { label: 'p256', certificate: 'not base64!' }),
      400,
      626,
    );
    expectError(await post('/v1/certificate/import/plain', { label: 'p256', certificate: 'AAAA' }), 400, 409);
    expectError(
      await post('/v1/certificate/import/plain', { label: 'missing', certificate: der.toString('base64') }),
      404,
      650,
    );
    expectError(
      await post('/v1/certificate/import/plain', { label: 'hmac', certificate: der.toString('base64') }),
      400,
      613,
    );
    // the refused imports left the stored certificate alone
    expect((await t.call(P, KO, { method: 'GET', url: '/v1/certificate/p256' })).json().certificate).toBe(
      issued,
    );
  });
});

describe('GET and DELETE /v1/certificate/{keyName}', () => {
  it('reads, deletes, and then answers 404 (653) for the key without certificate; the key stays usable', async () => {
    await post('/v1/certificate/synchronous/selfsign', {
      signKeyName: 'ed',
      signatureAlgorithm: 'EDDSA',
      validity: 5,
      commonName: 'ed',
    });
    const held = await t.call(P, KO, { method: 'GET', url: '/v1/certificate/ed' });
    expect(held.statusCode, held.body).toBe(200);
    await inFiles({ 'ed.pem': held.json().certificate }, async (dir) => {
      expect(await openssl(['x509', '-in', 'ed.pem', '-noout', '-text'], dir)).toContain(
        'Signature Algorithm: ED25519',
      );
    });
    const deleted = await t.call(P, KO, { method: 'DELETE', url: '/v1/certificate/ed' });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expectError(await t.call(P, KO, { method: 'GET', url: '/v1/certificate/ed' }), 404, 653);
    expectError(await t.call(P, KO, { method: 'DELETE', url: '/v1/certificate/ed' }), 404, 653);
    expectError(await t.call(P, KO, { method: 'GET', url: '/v1/certificate/missing' }), 404, 650);
    const attributes = await t.call(P, ['keyManagement'], {
      method: 'POST',
      url: '/v1/key/attributes',
      body: { label: 'ed' },
    });
    expect(attributes.statusCode).toBe(200);
  });
});

describe('bad input: a clear 4xx with errorCode, never a 500', () => {
  const selfSign = (extra: object) =>
    post('/v1/certificate/synchronous/selfsign', {
      signKeyName: 'p256',
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
      validity: 10,
      commonName: 'x',
      ...extra,
    });

  it.each([
    ['an unknown key', { signKeyName: 'missing' }, 404, 650],
    ['a secret key', { signKeyName: 'hmac', signatureAlgorithm: 'SHA256_WITH_RSA' }, 400, 613],
    ['a key without the sign attribute', { signKeyName: 'no-sign' }, 403, 614],
    ['an RSA algorithm for an EC key', { signatureAlgorithm: 'SHA256_WITH_RSA' }, 400, 607],
    ['EDDSA for an RSA key', { signKeyName: 'rsa', signatureAlgorithm: 'EDDSA' }, 400, 607],
    ['an algorithm certificates do not use', { signatureAlgorithm: 'KECCAK256_WITH_ECDSA' }, 400, 600],
    ['an unknown algorithm', { signatureAlgorithm: 'ROT13' }, 400, 600],
    ['validity 0', { validity: 0 }, 400, 619],
    ['a negative validity', { validity: -5 }, 400, 619],
    ['a fractional validity', { validity: 1.5 }, 400, 600],
    ['an unknown keyUsage', { keyUsage: ['DIGITAL_SIGNATURE', 'FLY'] }, 400, 501],
    ['an unknown extendedKeyUsage', { extendedKeyUsage: ['SERVER_AUTH,TELEPORT'] }, 400, 501],
    ['KEY_CERT_SIGN without certificateAuthority', { keyUsage: ['KEY_CERT_SIGN'] }, 400, 600],
    ['no commonName', { commonName: '' }, 400, 600],
    ['a derivation path', { signKeyName: "p256/0'" }, 400, 634],
    ['a wrong key password', { signKeyName: 'protected', keyPassword: 'nope' }, 403, 620],
  ])('%s', async (_case, extra, status, code) => {
    const snapshot = await t.keySnapshot();
    expectError(await selfSign(extra), status, code);
    expect(await t.keySnapshot()).toBe(snapshot);
  });

  it('a bad country code or e-mail address in the subject', async () => {
    const attributes = (extra: object) => ({ standardCertificateAttributes: { ...ATTRIBUTES, ...extra } });
    expectError(
      await post(
        '/v1/certificate/synchronous/request',
        csrBody('p256', 'SHA256_WITH_ECDSA', attributes({ country: 'C1' })),
      ),
      400,
      600,
    );
    expectError(
      await post(
        '/v1/certificate/synchronous/request',
        csrBody('p256', 'SHA256_WITH_ECDSA', attributes({ email: 'anna@bank.ch\u0000' })),
      ),
      400,
      600,
    );
    expectError(
      await post(
        '/v1/certificate/synchronous/request',
        csrBody('p256', 'SHA256_WITH_ECDSA', attributes({ commonName: null })),
      ),
      400,
      600,
    );
  });

  it('comma-joined usages (as the Go client sends them) count as several', async () => {
    const response = await selfSign({
      keyUsage: ['DIGITAL_SIGNATURE,KEY_AGREEMENT'],
      extendedKeyUsage: ['server_auth, client_auth'],
    });
    expect(response.statusCode, response.body).toBe(200);
    await inFiles({ 'c.pem': response.json().certificate }, async (dir) => {
      const text = await openssl(['x509', '-in', 'c.pem', '-noout', '-text'], dir);
      expect(text).toMatch(/Key Usage: critical\s+Digital Signature, Key Agreement/);
      expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    });
  });

  it('all nine key usages and seven extended key usages, as openssl names them', async () => {
    const response = await selfSign({
      certificateAuthority: true,
      keyUsage: Object.keys({
        DIGITAL_SIGNATURE: 0,
        CONTENT_COMMITMENT: 0,
        KEY_ENCIPHERMENT: 0,
        DATA_ENCIPHERMENT: 0,
        KEY_AGREEMENT: 0,
        KEY_CERT_SIGN: 0,
        CRL_SIGN: 0,
        ENCIPHER_ONLY: 0,
        DECIPHER_ONLY: 0,
      }),
      extendedKeyUsage: [
        'SERVER_AUTH',
        'CLIENT_AUTH',
        'CODE_SIGNING',
        'EMAIL_PROTECTION',
        'TIME_STAMPING',
        'OCSP_SIGNING',
        'ANY_EXTENDED_KEY_USAGE',
      ],
    });
    expect(response.statusCode, response.body).toBe(200);
    await inFiles({ 'c.pem': response.json().certificate }, async (dir) => {
      const text = await openssl(['x509', '-in', 'c.pem', '-noout', '-text'], dir);
      expect(text).toMatch(
        /Key Usage: critical\s+Digital Signature, Non Repudiation, Key Encipherment, Data Encipherment, Key Agreement, Certificate Sign, CRL Sign, Encipher Only, Decipher Only\n/,
      );
      expect(text).toMatch(
        /Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication, Code Signing, E-mail Protection, Time Stamping, OCSP Signing, Any Extended Key Usage\n/,
      );
    });
  });

  it('a password-protected key signs with its password', async () => {
    const response = await selfSign({
      signKeyName: 'protected',
      keyPassword: ['o', 'p', 'e', 'n', ' ', 's', 'e', 's', 'a', 'm', 'e'],
    });
    expect(response.statusCode, response.body).toBe(200);
    expectError(await selfSign({ signKeyName: 'protected' }), 403, 620);
  });

  it('a read-only partition refuses what changes a key, and still reads', async () => {
    const body = {
      signKeyName: 'ro',
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
      validity: 1,
      commonName: 'ro',
    };
    expectError(await post('/v1/certificate/synchronous/selfsign', body, RO), 403, 400);
    expectError(
      await post(
        '/v1/certificate/synchronous/request',
        { ...body, standardCertificateAttributes: { commonName: 'ro' } },
        RO,
      ),
      403,
      400,
    );
    expectError(
      await post('/v1/certificate/import/plain', { label: 'ro', certificate: 'AAAA' }, RO),
      403,
      400,
    );
    expectError(await t.call(RO, KO, { method: 'DELETE', url: '/v1/certificate/ro' }), 403, 400);
    expectError(await t.call(RO, KO, { method: 'GET', url: '/v1/certificate/ro' }), 404, 653);
  });
});
