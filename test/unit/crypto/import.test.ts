import {
  createPrivateKey,
  createPublicKey,
  ECDH,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  randomBytes,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ml_dsa44, ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { slh_dsa_sha2_128f } from '@noble/post-quantum/slh-dsa.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { SYMMETRIC_OIDS } from '../../../src/crypto/algorithms.js';
import {
  bitString,
  children,
  decode,
  explicit,
  implicitPrimitive,
  integer,
  nullValue,
  objectIdentifier,
  octetString,
  readInteger,
  sequence,
  tlv,
} from '../../../src/crypto/der.js';
import {
  exportPrivateKey,
  generateKey,
  importKey,
  loadPrivate,
  publicKeyOf,
} from '../../../src/crypto/mechanisms/key-mechanisms.js';
import { algorithmIdentifier, decodeSpki, encodePkcs8, encodeSpki } from '../../../src/crypto/spki-pkcs8.js';
import { hex, openssl, tsbErrorOf, withScratch } from './helpers.js';

interface OpensslFixture {
  keyPem: Buffer;
  sec1Der: Buffer;
  sec1PemWithParameters: Buffer;
  pkcs8Der: Buffer;
  spkiDer: Buffer;
  spkiPem: Buffer;
  certificateDer: Buffer;
  certificatePem: Buffer;
  rsaPkcs1Der: Buffer;
  rsaPkcs1Pem: Buffer;
  rsaSpkiDer: Buffer;
  rsaPkcs1PublicPem: Buffer;
  encryptedPem: Buffer;
}

let fx: OpensslFixture;

beforeAll(async () => {
  fx = await withScratch(async (dir) => {
    const run = (args: string[]) => openssl(args, dir);
    const read = (name: string) => readFile(path.join(dir, name));
    await run([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=t',
      '-days',
      '1',
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
    ]);
    await run(['x509', '-in', 'cert.pem', '-outform', 'DER', '-out', 'cert.der']);
    await run(['pkcs8', '-topk8', '-nocrypt', '-in', 'key.pem', '-outform', 'DER', '-out', 'pkcs8.der']);
    await run(['pkey', '-in', 'key.pem', '-pubout', '-outform', 'DER', '-out', 'pub.der']);
    await run(['pkey', '-in', 'key.pem', '-pubout', '-out', 'pub.pem']);
    await run(['ec', '-in', 'key.pem', '-outform', 'DER', '-out', 'sec1.der']);
    await run(['ecparam', '-name', 'prime256v1', '-out', 'params.pem']);
    await run(['ec', '-in', 'key.pem', '-out', 'sec1.pem']);
    await run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'rsa.pem']);
    await run(['rsa', '-in', 'rsa.pem', '-outform', 'DER', '-traditional', '-out', 'rsa1.der']);
    await run(['rsa', '-in', 'rsa.pem', '-traditional', '-out', 'rsa1.pem']);
    await run(['rsa', '-in', 'rsa.pem', '-RSAPublicKey_out', '-out', 'rsapub1.pem']);
    await run(['pkey', '-in', 'rsa.pem', '-pubout', '-outform', 'DER', '-out', 'rsapub.der']);
    await run(['pkey', '-in', 'key.pem', '-aes128', '-passout', 'pass:secret', '-out', 'enc.pem']);
    const sec1Pem = (await read('sec1.pem')).toString();
    return {
      keyPem: await read('key.pem'),
      sec1Der: await read('sec1.der'),
      sec1PemWithParameters: Buffer.from(
        `Bag Attributes\n    localKeyID: 01\n${(await read('params.pem')).toString()}${sec1Pem}`,
      ),
      pkcs8Der: await read('pkcs8.der'),
      spkiDer: await read('pub.der'),
      spkiPem: await read('pub.pem'),
      certificateDer: await read('cert.der'),
      certificatePem: await read('cert.pem'),
      rsaPkcs1Der: await read('rsa1.der'),
      rsaPkcs1Pem: await read('rsa1.pem'),
      rsaSpkiDer: await read('rsapub.der'),
      rsaPkcs1PublicPem: await read('rsapub1.pem'),
      encryptedPem: await read('enc.pem'),
    };
  });
});

describe('importKey: classical keys from openssl', () => {
  it('imports a PKCS#8 PEM private key with its certificate', () => {
    const material = importKey({ algorithm: 'EC', privateKey: fx.keyPem, certificate: fx.certificateDer });
    expect(material).toMatchObject({
      algorithm: 'EC',
      algorithmOid: '1.2.840.10045.2.1',
      curveOid: '1.2.840.10045.3.1.7',
      keySize: 256,
    });
    expect(material.publicKey!.equals(fx.spkiDer)).toBe(true);
    expect(material.secret!.equals(fx.pkcs8Der)).toBe(true);
    expect(material.certificate!.equals(fx.certificateDer)).toBe(true);
    expect(exportPrivateKey(material)).toEqual({ privateKey: fx.pkcs8Der, publicKey: fx.spkiDer });
  });

  it('imports PKCS#8 DER, SEC1 DER and SEC1 PEM (after EC PARAMETERS and bag attributes) to the same key', () => {
    for (const privateKey of [fx.pkcs8Der, fx.sec1Der, fx.sec1PemWithParameters]) {
      const material = importKey({ algorithm: 'EC', privateKey, curveOid: '1.2.840.10045.3.1.7' });
      expect(material.secret!.equals(fx.pkcs8Der)).toBe(true);
      expect(material.publicKey!.equals(fx.spkiDer)).toBe(true);
    }
  });

  it('imports a PKCS#1 RSA private key (DER and PEM) with its public key (SPKI DER and PKCS#1 PEM)', () => {
    const fromDer = importKey({ algorithm: 'RSA', privateKey: fx.rsaPkcs1Der, publicKey: fx.rsaSpkiDer });
    expect(fromDer).toMatchObject({ algorithm: 'RSA', keySize: 2048, curveOid: null });
    expect(fromDer.publicKey!.equals(fx.rsaSpkiDer)).toBe(true);
    const fromPem = importKey({
      algorithm: 'RSA',
      privateKey: fx.rsaPkcs1Pem,
      publicKey: fx.rsaPkcs1PublicPem,
    });
    expect(fromPem.secret!.equals(fromDer.secret!)).toBe(true);
    expect(createPrivateKey({ key: fromPem.secret!, format: 'der', type: 'pkcs8' }).type).toBe('private');
  });

  it('imports a public key alone (DER or PEM) as public-only material', () => {
    for (const publicKey of [fx.spkiDer, fx.spkiPem]) {
      const material = importKey({ algorithm: 'EC', publicKey });
      expect(material.secret).toBeNull();
      expect(material.publicKey!.equals(fx.spkiDer)).toBe(true);
      expect(material.curveOid).toBe('1.2.840.10045.3.1.7');
      expect(exportPrivateKey(material)).toEqual({ publicKey: fx.spkiDer });
      expect(publicKeyOf(material).equals(fx.spkiDer)).toBe(true);
      expect(tsbErrorOf(() => loadPrivate(material)).errorCode).toBe(614);
    }
  });

  it('imports a certificate alone (DER or PEM): its public key', () => {
    for (const certificate of [fx.certificateDer, fx.certificatePem]) {
      const material = importKey({ algorithm: 'EC', certificate });
      expect(material.secret).toBeNull();
      expect(material.publicKey!.equals(fx.spkiDer)).toBe(true);
      expect(material.certificate!.equals(fx.certificateDer)).toBe(true);
    }
  });

  it('imports Ed25519 and DSA keys made by node', () => {
    const ed = generateKeyPairSync('ed448');
    const material = importKey({
      algorithm: 'ED',
      privateKey: ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as unknown as Buffer,
    });
    expect(material).toMatchObject({ curveOid: '1.3.101.113', algorithmOid: '1.3.101.113', keySize: 448 });
    const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
    const dsaMaterial = importKey({
      algorithm: 'DSA',
      privateKey: dsa.privateKey.export({ type: 'pkcs8', format: 'der' }),
      publicKey: dsa.publicKey.export({ type: 'spki', format: 'der' }),
    });
    expect(dsaMaterial.keySize).toBe(2048);
  });
});

describe('importKey: refusals', () => {
  it('refuses a private key with the public key of another pair (PARSING_KEY)', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const error = tsbErrorOf(() =>
      importKey({
        algorithm: 'EC',
        privateKey: fx.pkcs8Der,
        publicKey: other.publicKey.export({ type: 'spki', format: 'der' }),
      }),
    );
    expect(error.errorCode).toBe(407);
    expect(error.message).toMatch(/does not belong/);
  });

  it("refuses an EC private key (SEC1 or PKCS#8) whose embedded public point is another key's", () => {
    const curves = [
      ['prime256v1', '1.2.840.10045.3.1.7'],
      ['secp384r1', '1.3.132.0.34'],
      ['secp521r1', '1.3.132.0.35'],
      ['secp256k1', '1.3.132.0.10'],
      ['brainpoolP256r1', '1.3.36.3.3.2.8.1.1.7'],
    ] as const;
    for (const [namedCurve, oid] of curves) {
      const own = generateKeyPairSync('ec', { namedCurve });
      const victim = generateKeyPairSync('ec', { namedCurve });
      const d = sec1Scalar(own.privateKey.export({ type: 'sec1', format: 'der' }));
      const pointOf = (pair: typeof own) =>
        ecPoint(pair.publicKey.export({ type: 'spki', format: 'der' }), namedCurve);
      const sec1 = (point: Buffer) =>
        sequence(
          integer(1),
          octetString(d),
          explicit(0, objectIdentifier(oid)),
          explicit(1, bitString(point)),
        );
      const forged = sec1(pointOf(victim));
      const forgedPkcs8 = createPrivateKey({ key: forged, format: 'der', type: 'sec1' }).export({
        type: 'pkcs8',
        format: 'der',
      });
      for (const privateKey of [forged, forgedPkcs8]) {
        const error = tsbErrorOf(() => importKey({ algorithm: 'EC', privateKey }));
        expect(error.errorCode, namedCurve).toBe(407);
        expect(error.message).toMatch(/does not belong to its private key/);
      }
      // such a key stored before imports checked it: its public key is refused when the service derives it
      const stored = tsbErrorOf(() =>
        publicKeyOf({
          algorithm: 'EC',
          algorithmOid: null,
          curveOid: oid,
          keySize: 0,
          publicKey: victim.publicKey.export({ type: 'spki', format: 'der' }),
          secret: forgedPkcs8,
        }),
      );
      expect([stored.errorCode, stored.message], namedCurve).toEqual([
        701,
        'the stored EC private key embeds a public point that is not its own',
      ]);
      // its own point, compressed or not, and no point at all are the same key
      const compressed = ECDH.convertKey(
        pointOf(own),
        namedCurve,
        undefined,
        undefined,
        'compressed',
      ) as Buffer;
      const noPoint = sequence(integer(1), octetString(d), explicit(0, objectIdentifier(oid)));
      for (const privateKey of [sec1(pointOf(own)), sec1(compressed), noPoint]) {
        const material = importKey({ algorithm: 'EC', privateKey });
        expect(ecPoint(material.publicKey!, namedCurve).equals(pointOf(own)), namedCurve).toBe(true);
      }
    }
  });

  it('stores the public key of the scalar, as @noble/curves computes it (P-256, secp256k1)', () => {
    for (const [curve, namedCurve, oid] of [
      [p256, 'prime256v1', '1.2.840.10045.3.1.7'],
      [secp256k1, 'secp256k1', '1.3.132.0.10'],
    ] as const) {
      const d = Buffer.from(curve.utils.randomSecretKey());
      const sec1 = sequence(integer(1), octetString(d), explicit(0, objectIdentifier(oid)));
      const material = importKey({ algorithm: 'EC', privateKey: sec1 });
      const independent = Buffer.from(curve.getPublicKey(d, false));
      expect(ecPoint(material.publicKey!, namedCurve).equals(independent)).toBe(true);
      // and what the key signs verifies under the stored public key
      const signature = nodeSign('sha256', Buffer.from('payload'), loadNode(material.secret!));
      expect(nodeVerify('sha256', Buffer.from('payload'), spkiKey(material.publicKey!), signature)).toBe(
        true,
      );
    }
  });

  it("refuses Ed25519 / Ed448 OneAsymmetricKey v2 keys carrying another key's public key", () => {
    for (const type of ['ed25519', 'ed448'] as const) {
      const own = generateKeyPairSync(type as 'ed25519');
      const victim = generateKeyPairSync(type as 'ed25519');
      const info = own.privateKey.export({ type: 'pkcs8', format: 'der' });
      const oid = type === 'ed25519' ? '1.3.101.112' : '1.3.101.113';
      const raw = (key: Buffer) => key.subarray(type === 'ed25519' ? -32 : -57);
      const seed = octetString(raw(info));
      const victimPoint = raw(victim.publicKey.export({ type: 'spki', format: 'der' }));
      const forged = encodePkcs8(algorithmIdentifier(oid), seed, victimPoint);
      expect(tsbErrorOf(() => importKey({ algorithm: 'ED', privateKey: forged })).errorCode, type).toBe(407);
      // the v1 form, and the v2 form with its own public key, import the key with its own public key
      const ownPoint = raw(own.publicKey.export({ type: 'spki', format: 'der' }));
      for (const privateKey of [
        encodePkcs8(algorithmIdentifier(oid), seed),
        encodePkcs8(algorithmIdentifier(oid), seed, ownPoint),
      ]) {
        const material = importKey({ algorithm: 'ED', privateKey });
        expect(material.publicKey!.equals(own.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
      }
    }
  });

  it('refuses an RSA private key whose components do not form one key (PKCS#1 and PKCS#8)', () => {
    const own = rsaComponents(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    const victim = rsaComponents(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    const forgeries = {
      // attested as the victim's key, while every signature it makes fails under that key
      "another key's modulus": { ...own, n: victim.n },
      'another d': { ...own, d: own.d + 2n },
      'another dP': { ...own, dP: own.dP + 2n },
      'another qInv': { ...own, qInv: own.qInv + 1n },
      'primes that are not factors of n': { ...own, p: victim.p, q: victim.q },
    };
    for (const [name, components] of Object.entries(forgeries)) {
      const pkcs1 = rsaPkcs1(components);
      // OpenSSL loads each of them as it is
      const pkcs8 = createPrivateKey({ key: pkcs1, format: 'der', type: 'pkcs1' }).export({
        type: 'pkcs8',
        format: 'der',
      });
      for (const privateKey of [pkcs1, pkcs8]) {
        const error = tsbErrorOf(() => importKey({ algorithm: 'RSA', privateKey }));
        expect(error.errorCode, name).toBe(407);
        expect(error.message).toMatch(/components do not form one key/);
      }
    }
    // the consistent key imports, and signs what its stored public key verifies
    const material = importKey({ algorithm: 'RSA', privateKey: rsaPkcs1(own) });
    const signature = nodeSign('sha256', Buffer.from('payload'), loadNode(material.secret!));
    expect(nodeVerify('sha256', Buffer.from('payload'), spkiKey(material.publicKey!), signature)).toBe(true);
  });

  it('imports a consistent three-prime RSA key made by openssl, and refuses it with a foreign modulus', async () => {
    await withScratch(async (dir) => {
      await openssl(
        [
          'genpkey',
          '-algorithm',
          'RSA',
          '-pkeyopt',
          'rsa_keygen_bits:2048',
          '-pkeyopt',
          'rsa_keygen_primes:3',
          '-out',
          'multi.pem',
        ],
        dir,
      );
      const generated = createPrivateKey(await readFile(path.join(dir, 'multi.pem')));
      const pkcs8 = generated.export({ type: 'pkcs8', format: 'der' });
      const material = importKey({ algorithm: 'RSA', privateKey: pkcs8 });
      const signature = nodeSign('sha256', Buffer.from('m'), loadNode(material.secret!));
      expect(nodeVerify('sha256', Buffer.from('m'), spkiKey(material.publicKey!), signature)).toBe(true);

      const pkcs1 = generated.export({ type: 'pkcs1', format: 'der' });
      const fields = children(decode(pkcs1));
      expect(readInteger(fields[0]!)).toBe(1n); // multi-prime
      const victimN = rsaComponents(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey).n;
      const forged = sequence(
        ...fields.map((field, index) => (index === 1 ? integer(victimN) : field.encoded)),
      );
      expect(tsbErrorOf(() => importKey({ algorithm: 'RSA', privateKey: forged })).errorCode).toBe(407);
      // the third prime's CRT coefficient off by one
      const [r, dR, t] = children(children(fields[9]!)[0]!).map(readInteger) as [bigint, bigint, bigint];
      const wrongCoefficient = sequence(
        ...fields.slice(0, 9).map((field) => field.encoded),
        sequence(sequence(integer(r), integer(dR), integer(t + 1n))),
      );
      expect(tsbErrorOf(() => importKey({ algorithm: 'RSA', privateKey: wrongCoefficient })).errorCode).toBe(
        407,
      );
      const rebuilt = sequence(
        ...fields.slice(0, 9).map((field) => field.encoded),
        sequence(sequence(integer(r), integer(dR), integer(t))),
      );
      expect(importKey({ algorithm: 'RSA', privateKey: rebuilt }).publicKey).toEqual(material.publicKey);
    });
  });

  it('refuses a private key with the certificate of another key (PARSING_KEY)', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const error = tsbErrorOf(() =>
      importKey({
        algorithm: 'EC',
        privateKey: other.privateKey.export({ type: 'pkcs8', format: 'der' }),
        certificate: fx.certificateDer,
      }),
    );
    expect(error.errorCode).toBe(407);
  });

  it('refuses a public key and certificate that disagree', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const error = tsbErrorOf(() =>
      importKey({
        algorithm: 'EC',
        publicKey: other.publicKey.export({ type: 'spki', format: 'der' }),
        certificate: fx.certificateDer,
      }),
    );
    expect(error.errorCode).toBe(407);
  });

  it.each([
    ['RSA', 'EC'],
    ['ED', 'EC'],
    ['DSA', 'EC'],
    ['ML-DSA-44', 'EC'],
    ['BLS', 'EC'],
  ] as const)('refuses an EC key imported as %s (INVALID_KEY_TYPE)', (algorithm, actual) => {
    for (const input of [
      { privateKey: fx.pkcs8Der },
      { publicKey: fx.spkiDer },
      { certificate: fx.certificateDer },
    ]) {
      const error = tsbErrorOf(() => importKey({ algorithm, ...input }));
      expect(error.errorCode).toBe(613);
      expect(error.message).toContain(actual);
    }
  });

  it('refuses an RSA PKCS#1 key as EC and an X25519 key as ED', () => {
    expect(tsbErrorOf(() => importKey({ algorithm: 'EC', privateKey: fx.rsaPkcs1Der })).errorCode).toBe(613);
    expect(
      tsbErrorOf(() => importKey({ algorithm: 'SLH-DSA-SHA2-128f', privateKey: fx.rsaPkcs1Pem })).errorCode,
    ).toBe(613);
    const x = generateKeyPairSync('x25519');
    const error = tsbErrorOf(() =>
      importKey({ algorithm: 'ED', privateKey: x.privateKey.export({ type: 'pkcs8', format: 'der' }) }),
    );
    expect(error.errorCode).toBe(613);
    expect(error.message).toContain('X25519');
  });

  it('refuses a key on another curve than the requested one, and curves we do not offer', () => {
    const error = tsbErrorOf(() =>
      importKey({ algorithm: 'EC', privateKey: fx.pkcs8Der, curveOid: '1.3.132.0.10' }),
    );
    expect(error.errorCode).toBe(613);
    expect(error.message).toMatch(/curve/);
    const p224 = generateKeyPairSync('ec', { namedCurve: 'secp224r1' });
    const unsupported = tsbErrorOf(() =>
      importKey({ algorithm: 'EC', publicKey: p224.publicKey.export({ type: 'spki', format: 'der' }) }),
    );
    expect(unsupported.errorCode).toBe(613);
    expect(unsupported.message).toContain('secp224r1');
  });

  it('refuses RSA keys below 1024 bits', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 512 });
    const error = tsbErrorOf(() =>
      importKey({ algorithm: 'RSA', privateKey: small.privateKey.export({ type: 'pkcs1', format: 'der' }) }),
    );
    expect(error.errorCode).toBe(603);
  });

  it.each([
    ['random bytes', randomBytes(64)],
    ['a DER SEQUENCE of nothing useful', Buffer.from('3003020101', 'hex')],
    ['truncated DER', Buffer.from('30820100020100', 'hex')],
    ['text without PEM armour', Buffer.from('hello world')],
  ])('refuses %s as a private or public key (PARSING_KEY)', (_name, bytes) => {
    for (const algorithm of [
      'RSA',
      'EC',
      'ED',
      'ML-DSA-65',
      'ML-KEM-512',
      'SLH-DSA-SHA2-128f',
      'BLS',
    ] as const) {
      expect(tsbErrorOf(() => importKey({ algorithm, privateKey: bytes })).errorCode).toBe(407);
      expect(tsbErrorOf(() => importKey({ algorithm, publicKey: bytes })).errorCode).toBe(407);
    }
  });

  it('refuses garbage certificates (PARSING_CERTIFICATE) and encrypted keys (PARSING_KEY)', () => {
    expect(tsbErrorOf(() => importKey({ algorithm: 'EC', certificate: randomBytes(100) })).errorCode).toBe(
      409,
    );
    expect(tsbErrorOf(() => importKey({ algorithm: 'EC', certificate: fx.spkiDer })).errorCode).toBe(409);
    const broken = Buffer.from('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n');
    expect(tsbErrorOf(() => importKey({ algorithm: 'EC', certificate: broken })).errorCode).toBe(626);
    const encrypted = tsbErrorOf(() => importKey({ algorithm: 'EC', privateKey: fx.encryptedPem }));
    expect(encrypted.errorCode).toBe(407);
    expect(encrypted.message).toMatch(/encrypted/);
    const wrongBlock = tsbErrorOf(() => importKey({ algorithm: 'EC', privateKey: fx.certificatePem }));
    expect(wrongBlock.errorCode).toBe(407);
  });

  it('never puts key bytes into error messages', () => {
    const bytes = randomBytes(48);
    for (const input of [{ privateKey: bytes }, { publicKey: bytes }, { certificate: bytes }]) {
      const error = tsbErrorOf(() => importKey({ algorithm: 'EC', ...input }));
      expect(error.message).not.toContain(bytes.toString('hex').slice(0, 8));
      expect(error.message).not.toContain(bytes.toString('base64').slice(0, 8));
    }
  });

  it('requires some key material, and the right kind for the algorithm', () => {
    expect(tsbErrorOf(() => importKey({ algorithm: 'EC' })).errorCode).toBe(600);
    expect(tsbErrorOf(() => importKey({ algorithm: 'AES' })).errorCode).toBe(600);
    expect(tsbErrorOf(() => importKey({ algorithm: 'AES', privateKey: fx.pkcs8Der })).errorCode).toBe(600);
    expect(tsbErrorOf(() => importKey({ algorithm: 'EC', secretKey: randomBytes(32) })).errorCode).toBe(600);
  });
});

describe('importKey: secret keys', () => {
  it.each([
    ['AES', [16, 24, 32], [8, 20, 64]],
    ['ChaCha20', [32], [16, 24]],
    ['Camellia', [16, 24, 32], [8, 40]],
    ['TDEA', [16, 24], [8, 21, 32]],
    ['HMACSHA256', [16, 17, 32, 64, 512], [15, 513, 1]],
  ] as const)('imports %s keys of %j bytes and refuses %j bytes (INPUT_KEYSIZE)', (algorithm, good, bad) => {
    for (const length of good) {
      const secretKey = randomBytes(length);
      const material = importKey({ algorithm, secretKey });
      expect(material).toMatchObject({
        algorithm,
        keySize: length * 8,
        publicKey: null,
        algorithmOid: SYMMETRIC_OIDS[algorithm],
      });
      expect(material.secret!.equals(secretKey)).toBe(true);
      expect(exportPrivateKey(material)).toEqual({ secretKey });
      const ready = loadPrivate(material);
      expect(ready.kind).toBe('secret');
      if (ready.kind === 'secret') expect(ready.key.export().equals(secretKey)).toBe(true);
    }
    for (const length of bad) {
      expect(tsbErrorOf(() => importKey({ algorithm, secretKey: randomBytes(length) })).errorCode).toBe(603);
    }
  });

  it('refuses TDEA keys that collapse to single DES', () => {
    const k = randomBytes(8);
    const error = tsbErrorOf(() =>
      importKey({ algorithm: 'TDEA', secretKey: Buffer.concat([k, k, randomBytes(8)]) }),
    );
    expect(error.errorCode).toBe(600);
  });
});

describe('importKey: post-quantum and BLS keys', () => {
  const ML_DSA_44 = '2.16.840.1.101.3.4.3.17';
  const ML_DSA_65 = '2.16.840.1.101.3.4.3.18';
  const ML_KEM_768 = '2.16.840.1.101.3.4.4.2';
  const SLH_128F = '2.16.840.1.101.3.4.3.21';
  const counting = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

  it('imports the RFC 9881 example form of an ML-DSA-44 seed key (seed 00 01 .. 1f)', () => {
    const pkcs8 = Buffer.from(
      'MDQCAQAwCwYJYIZIAWUDBAMRBCKAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f',
      'base64',
    );
    const material = importKey({ algorithm: 'ML-DSA-44', privateKey: pkcs8 });
    expect(material.secret!.equals(pkcs8)).toBe(true);
    expect(hex(material.publicKey!.subarray(22))).toBe(hex(ml_dsa44.keygen(counting).publicKey));
  });

  it('accepts the seed, expanded and both forms of ML-DSA, and the raw forms of pre-RFC writers', () => {
    const keys = ml_dsa65.keygen(counting);
    const alg = algorithmIdentifier(ML_DSA_65);
    const forms = [
      implicitPrimitive(0, counting),
      octetString(keys.secretKey),
      sequence(octetString(counting), octetString(keys.secretKey)),
      counting,
      Buffer.from(keys.secretKey),
    ];
    for (const privateKey of forms) {
      const material = importKey({ algorithm: 'ML-DSA-65', privateKey: encodePkcs8(alg, privateKey) });
      expect(hex(material.publicKey!.subarray(22))).toBe(hex(keys.publicKey));
      const ready = loadPrivate(material);
      if (ready.kind !== 'noble') throw new Error('expected a noble key');
      expect(hex(ready.secretKey)).toBe(hex(keys.secretKey));
    }
    // a seed whose expanded key belongs to another seed
    const other = ml_dsa65.keygen(randomBytes(32));
    const mismatch = sequence(octetString(counting), octetString(other.secretKey));
    expect(
      tsbErrorOf(() => importKey({ algorithm: 'ML-DSA-65', privateKey: encodePkcs8(alg, mismatch) }))
        .errorCode,
    ).toBe(407);
    // an expanded key whose tr does not match its public key
    const tampered = Buffer.from(keys.secretKey);
    tampered[70]! ^= 1;
    expect(
      tsbErrorOf(() =>
        importKey({ algorithm: 'ML-DSA-65', privateKey: encodePkcs8(alg, octetString(tampered)) }),
      ).errorCode,
    ).toBe(407);
  });

  it('imports ML-KEM seeds (d‖z) and expanded keys, checking the FIPS 203 hash', () => {
    const seed = randomBytes(64);
    const keys = ml_kem768.keygen(seed);
    const alg = algorithmIdentifier(ML_KEM_768);
    const fromSeed = importKey({
      algorithm: 'ML-KEM-768',
      privateKey: encodePkcs8(alg, implicitPrimitive(0, seed)),
    });
    const fromExpanded = importKey({
      algorithm: 'ML-KEM-768',
      privateKey: encodePkcs8(alg, octetString(keys.secretKey)),
      publicKey: encodeSpki(alg, keys.publicKey),
    });
    expect(hex(fromSeed.publicKey!)).toBe(hex(fromExpanded.publicKey!));
    const tampered = Buffer.from(keys.secretKey);
    tampered[tampered.length - 40]! ^= 1;
    expect(
      tsbErrorOf(() =>
        importKey({ algorithm: 'ML-KEM-768', privateKey: encodePkcs8(alg, octetString(tampered)) }),
      ).errorCode,
    ).toBe(407);
    // FIPS 203 modulus check of public keys: a coefficient of 4095 is not reduced
    const unreduced = Buffer.from(keys.publicKey);
    unreduced[0] = 0xff;
    unreduced[1] = (unreduced[1] ?? 0) | 0x0f;
    expect(
      tsbErrorOf(() => importKey({ algorithm: 'ML-KEM-768', publicKey: encodeSpki(alg, unreduced) }))
        .errorCode,
    ).toBe(407);
  });

  it('checks the public key of a OneAsymmetricKey v2 against its private key', () => {
    const keys = ml_dsa44.keygen(counting);
    const alg = algorithmIdentifier(ML_DSA_44);
    const good = encodePkcs8(alg, implicitPrimitive(0, counting), keys.publicKey);
    expect(importKey({ algorithm: 'ML-DSA-44', privateKey: good }).secret).not.toBeNull();
    const bad = encodePkcs8(alg, implicitPrimitive(0, counting), ml_dsa44.keygen(randomBytes(32)).publicKey);
    expect(tsbErrorOf(() => importKey({ algorithm: 'ML-DSA-44', privateKey: bad })).errorCode).toBe(407);
  });

  it('imports SLH-DSA private keys (raw or nested OCTET STRING) and matches them to a public key', () => {
    const keys = slh_dsa_sha2_128f.keygen(randomBytes(48));
    const alg = algorithmIdentifier(SLH_128F);
    const spki = encodeSpki(alg, keys.publicKey);
    for (const privateKey of [keys.secretKey, octetString(keys.secretKey)]) {
      const material = importKey({
        algorithm: 'SLH-DSA-SHA2-128f',
        privateKey: encodePkcs8(alg, privateKey),
        publicKey: spki,
      });
      expect(material.publicKey!.equals(spki)).toBe(true);
    }
    const other = encodeSpki(alg, slh_dsa_sha2_128f.keygen(randomBytes(48)).publicKey);
    const error = tsbErrorOf(() =>
      importKey({
        algorithm: 'SLH-DSA-SHA2-128f',
        privateKey: encodePkcs8(alg, keys.secretKey),
        publicKey: other,
      }),
    );
    expect(error.errorCode).toBe(407);
  });

  it('refuses PQC keys of another parameter set, wrong lengths or with AlgorithmIdentifier parameters', async () => {
    const material = await generateKey({ algorithm: 'ML-DSA-44' });
    const wrongSet = tsbErrorOf(() => importKey({ algorithm: 'ML-DSA-65', publicKey: material.publicKey! }));
    expect(wrongSet.errorCode).toBe(613);
    expect(wrongSet.message).toContain('ML-DSA-44');
    expect(
      tsbErrorOf(() => importKey({ algorithm: 'ML-KEM-512', privateKey: material.secret! })).errorCode,
    ).toBe(613);
    const short = encodeSpki(algorithmIdentifier(ML_DSA_44), randomBytes(100));
    expect(tsbErrorOf(() => importKey({ algorithm: 'ML-DSA-44', publicKey: short })).errorCode).toBe(407);
    const withNull = encodeSpki(
      algorithmIdentifier(ML_DSA_44, nullValue()),
      material.publicKey!.subarray(22),
    );
    expect(tsbErrorOf(() => importKey({ algorithm: 'ML-DSA-44', publicKey: withNull })).errorCode).toBe(407);
  });

  it('imports a PQC certificate that OpenSSL 3.0 cannot read, by its structure', async () => {
    const material = await generateKey({ algorithm: 'ML-DSA-44' });
    const name = sequence(tlv(0x31, sequence(objectIdentifier('2.5.4.3'), tlv(0x0c, Buffer.from('pq')))));
    const time = tlv(0x17, Buffer.from('250101000000Z'));
    const sigAlg = algorithmIdentifier(ML_DSA_44);
    const tbs = sequence(
      explicit(0, integer(2)),
      integer(1),
      sigAlg,
      name,
      sequence(time, time),
      name,
      material.publicKey!,
    );
    const certificate = sequence(tbs, sigAlg, bitString(randomBytes(2420)));
    const imported = importKey({ algorithm: 'ML-DSA-44', certificate, privateKey: material.secret! });
    expect(imported.publicKey!.equals(material.publicKey!)).toBe(true);
    expect(imported.certificate!.equals(certificate)).toBe(true);
  });

  it('validates BLS keys: scalar range, point encoding', async () => {
    const alg = algorithmIdentifier('1.3.6.1.4.1.44668.5.3.1.1');
    expect(
      tsbErrorOf(() => importKey({ algorithm: 'BLS', privateKey: encodePkcs8(alg, Buffer.alloc(32)) }))
        .errorCode,
    ).toBe(407);
    const tooBig = Buffer.alloc(32, 0xff);
    expect(
      tsbErrorOf(() => importKey({ algorithm: 'BLS', privateKey: encodePkcs8(alg, tooBig) })).errorCode,
    ).toBe(407);
    const notAPoint = encodeSpki(alg, Buffer.alloc(48, 0x9f));
    expect(tsbErrorOf(() => importKey({ algorithm: 'BLS', publicKey: notAPoint })).errorCode).toBe(407);
    const material = await generateKey({ algorithm: 'BLS' });
    const nested = encodePkcs8(alg, octetString(material.secret!.subarray(23)));
    expect(importKey({ algorithm: 'BLS', privateKey: nested }).secret!.equals(material.secret!)).toBe(true);
  });
});

/** The uncompressed point of an EC SubjectPublicKeyInfo. */
const ecPoint = (spki: Buffer, namedCurve: string): Buffer =>
  ECDH.convertKey(decodeSpki(spki).publicKey, namedCurve, undefined, undefined, 'uncompressed') as Buffer;

/** The private scalar of a SEC1 ECPrivateKey (node's JWK export has no brainpool curves). */
function sec1Scalar(sec1: Buffer): Buffer {
  const length = sec1[1]! & 0x80 ? 2 + (sec1[1]! & 0x7f) : 2;
  const octet = sec1.subarray(length + 3);
  return octet.subarray(2, 2 + octet[1]!);
}

const loadNode = (pkcs8: Buffer) => createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
const spkiKey = (spki: Buffer) => createPublicKey({ key: spki, format: 'der', type: 'spki' });

interface RsaComponents {
  n: bigint;
  e: bigint;
  d: bigint;
  p: bigint;
  q: bigint;
  dP: bigint;
  dQ: bigint;
  qInv: bigint;
}

function rsaComponents(key: ReturnType<typeof createPrivateKey>): RsaComponents {
  const jwk = key.export({ format: 'jwk' });
  const big = (value: string | undefined) => BigInt(`0x${Buffer.from(value!, 'base64url').toString('hex')}`);
  return {
    n: big(jwk.n),
    e: big(jwk.e),
    d: big(jwk.d),
    p: big(jwk.p),
    q: big(jwk.q),
    dP: big(jwk.dp),
    dQ: big(jwk.dq),
    qInv: big(jwk.qi),
  };
}

const rsaPkcs1 = ({ n, e, d, p, q, dP, dQ, qInv }: RsaComponents): Buffer =>
  sequence(integer(0), ...[n, e, d, p, q, dP, dQ, qInv].map((value) => integer(value)));
