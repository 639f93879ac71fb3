import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  privateDecrypt,
  randomBytes,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { children, decode, integer, sequence } from '../../src/crypto/der.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { openssl, withScratch } from '../helpers/openssl.js';

let t: TestContext;
const KM = ['keyManagement'] as const;
const signOnly = { decrypt: false, sign: true, unwrap: false };
const exportable = { ...signOnly, extractable: true, sensitive: false };

beforeAll(async () => {
  t = await createTestContext();
  await t.partition('exporter', { allowKeyExport: true });
  await t.partition('closed', { allowKeyExport: false, allowKeyImport: false });
});
afterAll(() => t.close());

const call = (partition: string, url: string, body: object) =>
  t.call(partition, [...KM], { method: 'POST', url, body });

/** A P-256 key pair and self-signed certificate made by the openssl CLI. */
async function opensslKeyAndCertificate() {
  return withScratch(async (dir) => {
    await openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        '/CN=import',
        '-days',
        '2',
        '-keyout',
        'key.pem',
        '-out',
        'cert.pem',
      ],
      dir,
    );
    await openssl(['pkey', '-in', 'key.pem', '-pubout', '-outform', 'DER', '-out', 'pub.der'], dir);
    await openssl(['x509', '-in', 'cert.pem', '-outform', 'DER', '-out', 'cert.der'], dir);
    await openssl(
      ['pkcs8', '-topk8', '-nocrypt', '-in', 'key.pem', '-outform', 'DER', '-out', 'key.der'],
      dir,
    );
    return {
      keyPem: await readFile(path.join(dir, 'key.pem'), 'utf8'),
      keyDer: await readFile(path.join(dir, 'key.der')),
      publicDer: await readFile(path.join(dir, 'pub.der')),
      certificateDer: await readFile(path.join(dir, 'cert.der')),
    };
  });
}

describe('POST /v1/key/import/plain and /v1/key/export/plain', () => {
  it('imports an openssl private key (PEM) with its certificate and exports the same key', async () => {
    const { keyPem, keyDer, publicDer, certificateDer } = await opensslKeyAndCertificate();
    const imported = await call('exporter', '/v1/key/import/plain', {
      label: 'imported-ec',
      algorithm: 'EC',
      privateKey: keyPem,
      certificate: certificateDer.toString('base64'),
      attributes: exportable,
    });
    expect(imported.statusCode).toBe(201);
    expect(imported.json().json.publicKey).toBe(publicDer.toString('base64'));
    expect(imported.json().json.curveOid).toBe('1.2.840.10045.3.1.7');
    expect(imported.json().xml).toContain('<private_key creation="imported">');

    const exported = await call('exporter', '/v1/key/export/plain', { label: 'imported-ec' });
    expect(exported.statusCode).toBe(200);
    const body = exported.json();
    expect(Buffer.from(body.privateKey, 'base64').equals(keyDer)).toBe(true);
    expect(body.publicKey).toBe(publicDer.toString('base64'));
    expect(body.certificate).toBe(certificateDer.toString('base64'));
  });

  it('imports a public key alone as a verify-only key', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const response = await call('exporter', '/v1/key/import/plain', {
      label: 'verify-only',
      algorithm: 'ED',
      publicKey: spki.toString('base64'),
    });
    expect(response.statusCode).toBe(201);
    expect(response.json().json.attributes).toMatchObject({ sign: false, decrypt: false });
    expect(response.json().json.publicKey).toBe(spki.toString('base64'));
    const row = await t.prisma.key.findFirstOrThrow({ where: { label: 'verify-only' } });
    expect(row.materialSealed).toBeNull();
    expect(row.publicOnly).toBe(true);
  });

  it('imports a certificate alone as a verify-only key', async () => {
    const { publicDer, certificateDer } = await opensslKeyAndCertificate();
    const response = await call('exporter', '/v1/key/import/plain', {
      label: 'cert-only',
      algorithm: 'EC',
      certificate: certificateDer.toString('base64'),
    });
    expect(response.statusCode).toBe(201);
    expect(response.json().json.publicKey).toBe(publicDer.toString('base64'));
  });

  it('imports an AES secret key and exports the same bytes', async () => {
    const secret = randomBytes(32);
    const response = await call('exporter', '/v1/key/import/plain', {
      label: 'aes-import',
      algorithm: 'AES',
      secretKey: secret.toString('base64'),
      attributes: { decrypt: true, sign: false, unwrap: false, extractable: true, sensitive: false },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json().json.keySize).toBe(256);
    const exported = await call('exporter', '/v1/key/export/plain', { label: 'aes-import' });
    expect(exported.json().secretKey).toBe(secret.toString('base64'));
  });

  it('refuses a private key with a public key of another pair, and stores nothing', async () => {
    const first = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const second = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const response = await call('exporter', '/v1/key/import/plain', {
      label: 'mismatch',
      algorithm: 'EC',
      privateKey: first.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
      publicKey: second.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      attributes: signOnly,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errorCode).toBe(407);
    expect(await t.prisma.key.count({ where: { label: 'mismatch' } })).toBe(0);
  });

  it("refuses an EC private key whose embedded public point is another key's (SEC1, PKCS#8, /v1/importedKey)", async () => {
    const victim = await call('exporter', '/v1/key', {
      label: 'victim-ec',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: signOnly,
    });
    expect(victim.statusCode, victim.body).toBe(201);
    const victimSpki = Buffer.from(victim.json().json.publicKey, 'base64');
    const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sec1 = attacker.privateKey.export({ type: 'sec1', format: 'der' });
    const ownPoint = attacker.publicKey.export({ type: 'spki', format: 'der' }).subarray(-65);
    const forgedSec1 = Buffer.from(sec1);
    victimSpki.subarray(-65).copy(forgedSec1, sec1.indexOf(ownPoint));
    const forgedPkcs8 = createPrivateKey({ key: forgedSec1, format: 'der', type: 'sec1' }).export({
      type: 'pkcs8',
      format: 'der',
    });
    for (const [url, privateKey] of [
      ['/v1/key/import/plain', forgedSec1],
      ['/v1/key/import/plain', forgedPkcs8],
      ['/v1/importedKey', forgedPkcs8],
    ] as const) {
      const response = await call('exporter', url, {
        label: 'imposter',
        algorithm: 'EC',
        privateKey: privateKey.toString('base64'),
        attributes: signOnly,
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().errorCode).toBe(407);
      expect(response.json().message).toMatch(/does not belong to its private key/);
    }
    expect(await t.prisma.key.count({ where: { label: 'imposter' } })).toBe(0);

    // the same scalar with its own point: the stored public key is the one @noble/curves derives from it
    const imported = await call('exporter', '/v1/key/import/plain', {
      label: 'own-point',
      algorithm: 'EC',
      privateKey: sec1.toString('base64'),
      attributes: signOnly,
    });
    expect(imported.statusCode, imported.body).toBe(201);
    const stored = Buffer.from(imported.json().json.publicKey, 'base64');
    const scalar = Buffer.from(attacker.privateKey.export({ format: 'jwk' }).d!, 'base64url');
    expect(stored.subarray(-65).equals(Buffer.from(p256.getPublicKey(scalar, false)))).toBe(true);
    const signature = nodeSign('sha256', Buffer.from('x'), attacker.privateKey);
    const spkiKey = createPublicKey({ key: stored, format: 'der', type: 'spki' });
    expect(nodeVerify('sha256', Buffer.from('x'), spkiKey, signature)).toBe(true);
  });

  it("refuses an RSA private key carrying another key's modulus (PKCS#1, PKCS#8, /v1/importedKey)", async () => {
    const victim = await call('exporter', '/v1/key', {
      label: 'victim-rsa',
      algorithm: 'RSA',
      keySize: 2048,
      attributes: signOnly,
    });
    expect(victim.statusCode, victim.body).toBe(201);
    const victimSpki = Buffer.from(victim.json().json.publicKey, 'base64');
    const victimModulus = createPublicKey({ key: victimSpki, format: 'der', type: 'spki' }).export({
      format: 'jwk',
    }).n!;
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const fields = children(decode(attacker.privateKey.export({ type: 'pkcs1', format: 'der' })));
    const modulus = BigInt(`0x${Buffer.from(victimModulus, 'base64url').toString('hex')}`);
    const forgedPkcs1 = sequence(
      ...fields.map((field, index) => (index === 1 ? integer(modulus) : field.encoded)),
    );
    const forgedPkcs8 = createPrivateKey({ key: forgedPkcs1, format: 'der', type: 'pkcs1' }).export({
      type: 'pkcs8',
      format: 'der',
    });
    for (const [url, privateKey] of [
      ['/v1/key/import/plain', forgedPkcs1],
      ['/v1/key/import/plain', forgedPkcs8],
      ['/v1/importedKey', forgedPkcs8],
    ] as const) {
      const response = await call('exporter', url, {
        label: 'rsa-imposter',
        algorithm: 'RSA',
        privateKey: privateKey.toString('base64'),
        attributes: signOnly,
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().errorCode).toBe(407);
      expect(response.json().message).toMatch(/components do not form one key/);
    }
    expect(await t.prisma.key.count({ where: { label: 'rsa-imposter' } })).toBe(0);
  });

  it('refuses importing a private key under a taken label, keeping the stored key', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const body = {
      label: 'taken',
      algorithm: 'EC',
      privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
      attributes: signOnly,
    };
    expect((await call('exporter', '/v1/key/import/plain', body)).statusCode).toBe(201);
    const before = await t.prisma.key.findFirstOrThrow({ where: { label: 'taken' } });
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const again = await call('exporter', '/v1/key/import/plain', {
      ...body,
      privateKey: other.privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().errorCode).toBe(608);
    const after = await t.prisma.key.findFirstOrThrow({ where: { label: 'taken' } });
    expect(Buffer.from(after.materialSealed!).equals(Buffer.from(before.materialSealed!))).toBe(true);
  });

  it('re-imports a public key over a public key (the TSB replaces it): with the key password, onto a modifiable key', async () => {
    const rsaSpki = () =>
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
    const reimport = (label: string, publicKey: Buffer, password?: string) =>
      call('exporter', '/v1/key/import/plain', {
        label,
        algorithm: 'RSA',
        publicKey: publicKey.toString('base64'),
        ...(password === undefined ? {} : { password }),
      });
    const storedPublicKey = async (label: string) =>
      Buffer.from((await t.prisma.key.findFirstOrThrow({ where: { label } })).publicKey!);

    // a key without password, modifiable (the default): replaced, as the TSB does
    expect((await reimport('open-partner', rsaSpki())).statusCode).toBe(201);
    const renewed = rsaSpki();
    const replaced = await reimport('open-partner', renewed);
    expect(replaced.statusCode, replaced.body).toBe(201);
    expect(replaced.json().json.publicKey).toBe(renewed.toString('base64'));
    expect((await storedPublicKey('open-partner')).equals(renewed)).toBe(true);
    // ...but a password given for a key without one is refused, as everywhere (620)
    expect((await reimport('open-partner', rsaSpki(), 'some-password')).json().errorCode).toBe(620);

    // a password-protected key: only with its password
    expect((await reimport('guarded-partner', rsaSpki(), 'guard-secret')).statusCode).toBe(201);
    for (const password of [undefined, 'wrong-secret']) {
      const refused = await reimport('guarded-partner', rsaSpki(), password);
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.json().errorCode).toBe(620);
    }
    const guardedNew = rsaSpki();
    expect((await reimport('guarded-partner', guardedNew, 'guard-secret')).statusCode).toBe(201);
    expect((await storedPublicKey('guarded-partner')).equals(guardedNew)).toBe(true);

    // a key that is not modifiable: never (614)
    const frozen = rsaSpki();
    const made = await call('exporter', '/v1/key/import/plain', {
      label: 'frozen-partner',
      algorithm: 'RSA',
      publicKey: frozen.toString('base64'),
      attributes: { modifiable: false },
    });
    expect(made.statusCode, made.body).toBe(201);
    const refused = await reimport('frozen-partner', rsaSpki());
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().errorCode).toBe(614);
    expect((await storedPublicKey('frozen-partner')).equals(frozen)).toBe(true);
  });

  it('a password-protected, non-modifiable wrapping key keeps its public key: wraps still go to the partner', async () => {
    const partner = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const partnerSpki = partner.publicKey.export({ type: 'spki', format: 'der' });
    const created = await call('exporter', '/v1/key/import/plain', {
      label: 'partner-kms',
      algorithm: 'RSA',
      publicKey: partnerSpki.toString('base64'),
      password: 'owner-only-secret',
      attributes: { wrap: true, modifiable: false },
    });
    expect(created.statusCode, created.body).toBe(201);
    const before = await t.prisma.key.findFirstOrThrow({ where: { label: 'partner-kms' } });
    const attackerSpki = attacker.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const attempt = (password?: string) =>
      call('exporter', '/v1/key/import/plain', {
        label: 'partner-kms',
        algorithm: 'RSA',
        publicKey: attackerSpki,
        ...(password === undefined ? {} : { password }),
      });
    const withoutPassword = await attempt();
    expect(withoutPassword.statusCode, withoutPassword.body).toBe(403);
    expect(withoutPassword.json().errorCode).toBe(620);
    const withPassword = await attempt('owner-only-secret');
    expect(withPassword.statusCode, withPassword.body).toBe(403);
    expect(withPassword.json().errorCode).toBe(614);
    expect(withPassword.json().message).toMatch(/not modifiable/);
    const after = await t.prisma.key.findFirstOrThrow({ where: { label: 'partner-kms' } });
    expect(Buffer.from(after.publicKey!).equals(partnerSpki)).toBe(true);
    expect(after.version).toBe(before.version);

    // the application wraps its data key for the partner: the partner, not the attacker, unwraps it
    const dataKey = randomBytes(32);
    const secret = await call('exporter', '/v1/key/import/plain', {
      label: 'partner-data-key',
      algorithm: 'AES',
      secretKey: dataKey.toString('base64'),
      attributes: { decrypt: true, sign: false, unwrap: false, extractable: true },
    });
    expect(secret.statusCode, secret.body).toBe(201);
    const wrapped = await t.call('exporter', ['keyOperation'], {
      method: 'POST',
      url: '/v1/wrap',
      body: {
        wrapKeyRequest: {
          keyToBeWrapped: 'partner-data-key',
          wrapKeyName: 'partner-kms',
          wrapKeyPassword: 'owner-only-secret',
          wrapMethod: 'RSA_WRAP_OAEP',
        },
      },
    });
    expect(wrapped.statusCode, wrapped.body).toBe(200);
    const ciphertext = Buffer.from(wrapped.json().wrappedKey, 'base64');
    const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
    expect(privateDecrypt({ key: partner.privateKey, ...oaep }, ciphertext).equals(dataKey)).toBe(true);
    expect(() => privateDecrypt({ key: attacker.privateKey, ...oaep }, ciphertext)).toThrow();
  });

  it('adds a certificate to a private key by re-import only with its password, and only if it is modifiable', async () => {
    const { keyPem, certificateDer } = await opensslKeyAndCertificate();
    const certificate = certificateDer.toString('base64');
    for (const [label, modifiable] of [
      ['cert-target', true],
      ['cert-frozen', false],
    ] as const) {
      const imported = await call('exporter', '/v1/key/import/plain', {
        label,
        algorithm: 'EC',
        privateKey: keyPem,
        password: 'key-secret',
        attributes: { ...signOnly, modifiable },
      });
      expect(imported.statusCode, imported.body).toBe(201);
      const withoutPassword = await call('exporter', '/v1/key/import/plain', {
        label,
        algorithm: 'EC',
        certificate,
      });
      expect(withoutPassword.statusCode, withoutPassword.body).toBe(403);
      expect(withoutPassword.json().errorCode).toBe(620);
      const withPassword = await call('exporter', '/v1/key/import/plain', {
        label,
        algorithm: 'EC',
        certificate,
        password: 'key-secret',
      });
      const row = await t.prisma.key.findFirstOrThrow({ where: { label } });
      if (modifiable) {
        expect(withPassword.statusCode, withPassword.body).toBe(201);
        expect(Buffer.from(row.certificate!).equals(certificateDer)).toBe(true);
      } else {
        expect(withPassword.statusCode, withPassword.body).toBe(403);
        expect(withPassword.json().errorCode).toBe(614);
        expect(row.certificate).toBeNull();
      }
    }
  });

  it('exports only extractable, non-sensitive keys without SKA policy in partitions that allow export', async () => {
    const sensitive = await call('exporter', '/v1/key', {
      label: 'sensitive',
      algorithm: 'AES',
      keySize: 128,
      attributes: { decrypt: true, sign: false, unwrap: false, extractable: true },
    });
    expect(sensitive.statusCode).toBe(201);
    const refused = await call('exporter', '/v1/key/export/plain', { label: 'sensitive' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().errorCode).toBe(614);

    const skaExtractable = await call('exporter', '/v1/key', {
      label: 'ska-extractable',
      algorithm: 'AES',
      keySize: 128,
      attributes: { decrypt: true, sign: false, unwrap: false, extractable: true, sensitive: false },
      policy: {
        ruleUse: null,
        ruleBlock: null,
        ruleUnblock: null,
        ruleModify: null,
        keyStatus: { blocked: false },
      },
    });
    expect(skaExtractable.statusCode).toBe(400);
    expect(skaExtractable.json().errorCode).toBe(606);

    const inClosed = await call('closed', '/v1/key', {
      label: 'closed-key',
      algorithm: 'AES',
      keySize: 128,
      attributes: { decrypt: true, sign: false, unwrap: false, extractable: true, sensitive: false },
    });
    expect(inClosed.statusCode).toBe(201);
    const closedExport = await call('closed', '/v1/key/export/plain', { label: 'closed-key' });
    expect(closedExport.statusCode).toBe(403);
    expect(closedExport.json().errorCode).toBe(400);
    expect(closedExport.json().message).toMatch(/export/);
  });

  it('exports a generated extractable RSA key that openssl accepts as the key of its public half', async () => {
    const created = await call('exporter', '/v1/key', {
      label: 'rsa-export',
      algorithm: 'RSA',
      keySize: 2048,
      attributes: exportable,
    });
    expect(created.statusCode).toBe(201);
    const exported = (await call('exporter', '/v1/key/export/plain', { label: 'rsa-export' })).json();
    const derivedPublic = await withScratch(async (dir) => {
      await (await import('node:fs/promises')).writeFile(
        path.join(dir, 'k.der'),
        Buffer.from(exported.privateKey, 'base64'),
      );
      await openssl(
        ['pkey', '-inform', 'DER', '-in', 'k.der', '-pubout', '-outform', 'DER', '-out', 'p.der'],
        dir,
      );
      return readFile(path.join(dir, 'p.der'));
    });
    expect(derivedPublic.toString('base64')).toBe(created.json().json.publicKey);
  });

  it('refuses import when the partition policy forbids it', async () => {
    const response = await call('closed', '/v1/key/import/plain', {
      label: 'x',
      algorithm: 'AES',
      secretKey: randomBytes(16).toString('base64'),
      attributes: { decrypt: true, sign: false, unwrap: false },
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().errorCode).toBe(400);
  });
});
