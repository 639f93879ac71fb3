import { generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decode, TAG } from '../../../src/crypto/der.js';
import {
  certificateFacts,
  certificatePem,
  encodeName,
  encodeTime,
  issueCertificate,
  keyIdentifier,
  type NameAttribute,
  OID,
  publicKeyPem,
} from '../../../src/crypto/x509/x509.js';
import { openssl, withScratch } from '../../helpers/openssl.js';

function p256(): { spki: Buffer; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { spki: publicKey.export({ type: 'spki', format: 'der' }), privateKey };
}

const now = Date.now();
const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 10 * 365 * 86_400_000) };
const ROOT: NameAttribute[] = [
  { type: OID.organization, value: 'Test' },
  { type: OID.commonName, value: 'Test Root' },
];
const DEVICE: NameAttribute[] = [
  { type: OID.organization, value: 'Test' },
  { type: OID.commonName, value: 'Test Device' },
];

async function chain() {
  const root = p256();
  const device = p256();
  const leaf = p256();
  const rootDer = await issueCertificate(
    { subject: ROOT, subjectPublicKey: root.spki, ca: {}, keyUsage: ['keyCertSign', 'cRLSign'], ...validity },
    { name: encodeName(ROOT), keyIdentifier: keyIdentifier(root.spki), privateKey: root.privateKey },
  );
  const deviceDer = await issueCertificate(
    {
      subject: DEVICE,
      subjectPublicKey: device.spki,
      ca: { pathLength: 0 },
      keyUsage: ['keyCertSign', 'cRLSign'],
      ...validity,
    },
    { name: encodeName(ROOT), keyIdentifier: keyIdentifier(root.spki), privateKey: root.privateKey },
  );
  const issuer = certificateFacts(deviceDer);
  const issuedBy = {
    name: issuer.subject,
    keyIdentifier: issuer.keyIdentifier,
    privateKey: device.privateKey,
  };
  const subject = (cn: string) => [
    { type: OID.organization, value: 'Test' },
    { type: OID.organizationalUnit, value: 'tenant_1' },
    { type: OID.commonName, value: cn },
  ];
  const attestationDer = await issueCertificate(
    {
      subject: subject('attestation-key'),
      subjectPublicKey: leaf.spki,
      keyUsage: ['digitalSignature'],
      ...validity,
    },
    issuedBy,
  );
  const timestampDer = await issueCertificate(
    {
      subject: subject('timestamp-key'),
      subjectPublicKey: leaf.spki,
      keyUsage: ['digitalSignature'],
      extendedKeyUsage: [OID.timeStamping],
      ...validity,
    },
    issuedBy,
  );
  return { root, device, leaf, rootDer, deviceDer, attestationDer, timestampDer };
}

describe('X.509 builder', () => {
  it('builds a root, a device CA and leaf certificates that node:crypto parses and verifies', async () => {
    const c = await chain();
    const root = new X509Certificate(c.rootDer);
    const device = new X509Certificate(c.deviceDer);
    const attestation = new X509Certificate(c.attestationDer);
    const timestamp = new X509Certificate(c.timestampDer);
    expect(root.subject).toBe('O=Test\nCN=Test Root');
    expect(root.issuer).toBe(root.subject);
    expect(root.ca).toBe(true);
    expect(device.ca).toBe(true);
    expect(attestation.ca).toBe(false);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(device.verify(root.publicKey)).toBe(true);
    expect(device.checkIssued(root)).toBe(true);
    expect(attestation.checkIssued(device)).toBe(true);
    expect(attestation.verify(device.publicKey)).toBe(true);
    expect(attestation.verify(root.publicKey)).toBe(false);
    expect(attestation.subject).toBe('O=Test\nOU=tenant_1\nCN=attestation-key');
    expect(timestamp.keyUsage).toEqual([OID.timeStamping]);
    expect(attestation.publicKey.export({ type: 'spki', format: 'der' })).toEqual(c.leaf.spki);
    expect(/^[0-7]/.test(attestation.serialNumber)).toBe(true);
    expect(attestation.serialNumber).toHaveLength(32);
  });

  it('is read by openssl x509 -text with every extension, and openssl verify accepts the chain', async () => {
    const c = await chain();
    await withScratch(async (dir) => {
      await writeFile(path.join(dir, 'root.pem'), certificatePem(c.rootDer));
      await writeFile(path.join(dir, 'device.pem'), certificatePem(c.deviceDer));
      await writeFile(path.join(dir, 'attestation.pem'), certificatePem(c.attestationDer));
      await writeFile(path.join(dir, 'timestamp.pem'), certificatePem(c.timestampDer));
      const rootText = await openssl(['x509', '-in', 'root.pem', '-noout', '-text'], dir);
      expect(rootText).toContain('Version: 3 (0x2)');
      expect(rootText).toContain('Signature Algorithm: ecdsa-with-SHA256');
      expect(rootText).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE/);
      expect(rootText).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
      expect(rootText).toContain('X509v3 Subject Key Identifier');
      const deviceText = await openssl(['x509', '-in', 'device.pem', '-noout', '-text'], dir);
      expect(deviceText).toMatch(/CA:TRUE, pathlen:0/);
      expect(deviceText).toContain('X509v3 Authority Key Identifier');
      const attestationText = await openssl(['x509', '-in', 'attestation.pem', '-noout', '-text'], dir);
      expect(attestationText).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
      expect(attestationText).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
      expect(attestationText).toContain('NIST CURVE: P-256');
      const timestampText = await openssl(['x509', '-in', 'timestamp.pem', '-noout', '-text'], dir);
      expect(timestampText).toMatch(/X509v3 Extended Key Usage: critical\s+Time Stamping/);

      const verify = (leaf: string, ...extra: string[]) =>
        openssl(
          ['verify', '-x509_strict', ...extra, '-CAfile', 'root.pem', '-untrusted', 'device.pem', leaf],
          dir,
        );
      expect(await verify('attestation.pem')).toContain('attestation.pem: OK');
      expect(await verify('timestamp.pem', '-purpose', 'timestampsign')).toContain('timestamp.pem: OK');
      await expect(verify('attestation.pem', '-purpose', 'timestampsign')).rejects.toThrow(
        /unsuitable certificate purpose/,
      );
      // without the device certificate there is no chain
      await expect(openssl(['verify', '-CAfile', 'root.pem', 'attestation.pem'], dir)).rejects.toThrow(
        /unable to get local issuer certificate/,
      );
    });
  });

  it('reads back subject, issuer, serial number and key identifier', async () => {
    const c = await chain();
    const facts = certificateFacts(c.attestationDer);
    expect(facts.issuer).toEqual(encodeName(DEVICE));
    expect(facts.spki).toEqual(c.leaf.spki);
    expect(facts.keyIdentifier).toEqual(keyIdentifier(c.leaf.spki));
    expect(facts.serialNumber.toString('hex').toUpperCase()).toBe(
      new X509Certificate(c.attestationDer).serialNumber,
    );
  });

  it('uses UTCTime up to 2049 and GeneralizedTime from 2050', () => {
    expect(decode(encodeTime(new Date('2049-12-31T23:59:59.900Z'))).tag).toBe(TAG.UTC_TIME);
    expect(encodeTime(new Date('2049-12-31T23:59:59Z')).subarray(2).toString()).toBe('491231235959Z');
    expect(decode(encodeTime(new Date('2050-01-01T00:00:00Z'))).tag).toBe(TAG.GENERALIZED_TIME);
    expect(encodeTime(new Date('2050-01-01T00:00:00Z')).subarray(2).toString()).toBe('20500101000000Z');
  });

  it('writes PEM that openssl and node read back', async () => {
    const { spki } = p256();
    expect(publicKeyPem(spki)).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const c = await chain();
    expect(new X509Certificate(certificatePem(c.rootDer)).raw).toEqual(c.rootDer);
  });
});
