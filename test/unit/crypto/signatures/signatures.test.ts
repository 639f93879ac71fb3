/**
 * Classical signatures (RSA, ECDSA, DSA, EdDSA): every signature we make is verified by the openssl
 * CLI, and signatures openssl makes are verified by our verify.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explicit, integer, objectIdentifier, octetString, sequence } from '../../../../src/crypto/der.js';
import type { ReadyKey } from '../../../../src/crypto/mechanisms/key-material.js';
import {
  generateKey,
  importKey,
  loadPrivate,
  loadPublic,
} from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import type { ReadyPublicKey } from '../../../../src/crypto/mechanisms/public-keys.js';
import { readRawSignature, writeDerSignature } from '../../../../src/crypto/signatures/signature-encoding.js';
import { publicOf, sign, verify } from '../../../../src/crypto/signatures/signatures.js';
import { shutdownSignaturePool } from '../../../../src/crypto/signatures/signatures-pool.js';
import { decodeSpki } from '../../../../src/crypto/spki-pkcs8.js';
import { openssl, withScratch } from '../../../helpers/openssl.js';
import { tsbErrorOfAsync } from '../helpers.js';

/** A DSA-2048/256 key made once with `openssl genpkey` (parameter generation takes seconds). */
const DSA_PEM = `-----BEGIN PRIVATE KEY-----
MIICZQIBADCCAjoGByqGSM44BAEwggItAoIBAQC3D7yypn6EmPoCAlJ35bs19DHG
fT61Sm62ahHDLdg0gez+q8jlMXXCn211O6NOVS8M6OyKhled+qx6uZAEn6j65Zrb
DN3PnO4h/ixrCa2yBdMA1lLhgzaCddaAtiTEOsQnAu8D2JB8GTLprXtf7Ln8p3Xv
Yp22E6ZKmxwzzoun8Vjbw4gYeE0mPpE6TIGxAAgck5hcJ+Z91Mi26XNQyZ/hIkDH
Ev1BkIUQ09JLCqVbpw8uMFLcfEEZzgnXEwrjGp/B1PrbfjCU9e/i/NKotIh9JXhn
vy39koIEbZvDzWbnRD0VspPh1miEIY5m+9rIromAVGF68DKhGWSp8fOl/1zDAiEA
ymZs+SW2vE3vlMEydqZk07+x/WxdkKJx9uYVlqkkXnMCggEBAIaEBfZUZLX99vgh
o3H/6PWmS3gP0f2RIfUUvwyN7IQrB3MKH8SBJ9E2u4qw4FdV8UrMf0A8iHHAlVdt
qznl1Ssltoj79oiEm7qAS0piFQCUPXgxicD5eOqTeEeKGpCx+AWoB/EvyxAA12y+
s4ZrpmZPeMuO+ntTRBi2+BxwCg+qjrmnMGb9s7xzd8wrlm1kNBUHKbOpuOkmmMvK
7T+xN/SIzp/cgllkw2446yFM4uJOq9d+gTS+1SpQTYGtqr6Lg6QkRjQ+Wu5cJNjK
6J2XGJ3GPDB0OIDGb/qxZwp5RN+TI1PT3j5z9mba3jSatmVO9ziLdx8L0y8wUjAA
lmktFkIEIgIgVvj27jyPJk94P+S9LKunP05ANpwk/0bEOD5oPX5yPvI=
-----END PRIVATE KEY-----`;

interface TestKey {
  ready: ReadyKey;
  pub: ReadyPublicKey;
  spki: Buffer;
  pkcs8: Buffer;
}

async function makeKey(algorithm: 'RSA' | 'EC' | 'ED', curveOid?: string): Promise<TestKey> {
  const material = await generateKey({ algorithm, curveOid: curveOid ?? null });
  return {
    ready: loadPrivate(material),
    pub: loadPublic(algorithm, material.publicKey!, material.curveOid),
    spki: material.publicKey!,
    pkcs8: material.secret!,
  };
}

function dsaKey(): TestKey {
  const key = createPrivateKey(DSA_PEM);
  const publicKey = createPublicKey(key);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    ready: { kind: 'node', algorithm: 'DSA', curveOid: null, key, publicKey },
    pub: loadPublic('DSA', spki, null),
    spki,
    pkcs8: key.export({ type: 'pkcs8', format: 'der' }),
  };
}

/** One openssl check: files to write, then the command; true when openssl reports success. */
interface Check {
  files: Record<string, Buffer>;
  args: string[];
}

/** Runs openssl checks in parallel in one scratch folder holding pub.pem / key.pem of the key. */
async function opensslAll(key: TestKey, checks: Check[]): Promise<boolean[]> {
  return withScratch(async (dir) => {
    await writeFile(path.join(dir, 'pub.der'), key.spki);
    await writeFile(path.join(dir, 'key.der'), key.pkcs8);
    await openssl(['pkey', '-pubin', '-inform', 'DER', '-in', 'pub.der', '-out', 'pub.pem'], dir);
    await openssl(['pkey', '-inform', 'DER', '-in', 'key.der', '-out', 'key.pem'], dir);
    return Promise.all(
      checks.map(async (check, index) => {
        const names: Record<string, string> = {};
        for (const [name, bytes] of Object.entries(check.files)) {
          names[name] = `${index}-${name}`;
          await writeFile(path.join(dir, names[name]), bytes);
        }
        const args = check.args.map((arg) => names[arg] ?? arg);
        try {
          const out = await openssl(args, dir);
          return /Verified OK|Signature Verified Successfully/.test(out);
        } catch {
          return false;
        }
      }),
    );
  });
}

/** Signs with openssl (key.pem) and returns the signature bytes. */
async function opensslSign(key: TestKey, args: string[], input: Buffer): Promise<Buffer> {
  return withScratch(async (dir) => {
    await writeFile(path.join(dir, 'key.der'), key.pkcs8);
    await openssl(['pkey', '-inform', 'DER', '-in', 'key.der', '-out', 'key.pem'], dir);
    await writeFile(path.join(dir, 'in'), input);
    await openssl([args[0]!, '-out', 'sig', ...args.slice(1)], dir);
    const { readFile } = await import('node:fs/promises');
    return readFile(path.join(dir, 'sig'));
  });
}

const dgstVerify = (hash: string, sig: Buffer, data: Buffer, extra: string[] = []): Check => ({
  files: { sig, data },
  args: ['dgst', `-${hash}`, ...extra, '-verify', 'pub.pem', '-signature', 'sig', 'data'],
});
const pkeyutlVerify = (sig: Buffer, input: Buffer, extra: string[] = []): Check => ({
  files: { sig, input },
  args: ['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', ...extra, '-in', 'input', '-sigfile', 'sig'],
});
const PSS_SIGOPT = ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'];
const PSS_PKEYOPT = ['-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', 'rsa_pss_saltlen:digest'];

const payload = Buffer.from('OpenTSB signs this payload: 0123456789');
const digestOf = (hash: string, data: Buffer = payload) => createHash(hash).update(data).digest();
const SHA = ['sha1', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
const tsbName = (hash: string) => hash.toUpperCase();

afterAll(() => shutdownSignaturePool());

// ---------------------------------------------------------------------------------------------

describe('RSA-2048', () => {
  let key: TestKey;
  beforeAll(async () => {
    key = await makeKey('RSA');
  });

  it('PKCS#1 v1.5 and PSS with SHA-1/224/256/384/512 and every NONE* / NONESHA* form verify with openssl', async () => {
    const checks: Check[] = [];
    const ours: { name: string; sig: Buffer; data: Buffer }[] = [];
    for (const hash of SHA) {
      const digest = digestOf(hash);
      const pkcs1 = await sign(key.ready, { signatureAlgorithm: `${tsbName(hash)}_WITH_RSA`, payload });
      const pss = await sign(key.ready, { signatureAlgorithm: `${tsbName(hash)}_WITH_RSA_PSS`, payload });
      const nonePkcs1 = await sign(key.ready, {
        signatureAlgorithm: `NONE${tsbName(hash)}_WITH_RSA`,
        payload: digest,
      });
      const nonePss = await sign(key.ready, {
        signatureAlgorithm: `NONE${tsbName(hash)}_WITH_RSA_PSS`,
        payload: digest,
      });
      const nonePssInferred = await sign(key.ready, {
        signatureAlgorithm: 'NONE_WITH_RSA_PSS',
        payload: digest,
      });
      checks.push(dgstVerify(hash, pkcs1, payload));
      checks.push(dgstVerify(hash, pss, payload, PSS_SIGOPT));
      checks.push(pkeyutlVerify(nonePkcs1, digest, ['-pkeyopt', `digest:${hash}`]));
      checks.push(pkeyutlVerify(nonePss, digest, ['-pkeyopt', `digest:${hash}`, ...PSS_PKEYOPT]));
      checks.push(pkeyutlVerify(nonePssInferred, digest, ['-pkeyopt', `digest:${hash}`, ...PSS_PKEYOPT]));
      // PKCS#1 v1.5 is deterministic: NONESHAxxx over the digest equals SHAxxx over the message
      expect(nonePkcs1.equals(pkcs1)).toBe(true);
      ours.push(
        { name: `${tsbName(hash)}_WITH_RSA`, sig: pkcs1, data: payload },
        { name: `${tsbName(hash)}_WITH_RSA_PSS`, sig: pss, data: payload },
        { name: `NONE${tsbName(hash)}_WITH_RSA`, sig: nonePkcs1, data: digest },
        { name: `NONE${tsbName(hash)}_WITH_RSA_PSS`, sig: nonePss, data: digest },
        { name: 'NONE_WITH_RSA_PSS', sig: nonePssInferred, data: digest },
      );
    }
    const raw = Buffer.from('raw bytes, no DigestInfo');
    const none = await sign(key.ready, { signatureAlgorithm: 'NONE_WITH_RSA', payload: raw });
    checks.push(pkeyutlVerify(none, raw));
    ours.push({ name: 'NONE_WITH_RSA', sig: none, data: raw });
    expect(await opensslAll(key, checks)).toEqual(checks.map(() => true));
    for (const { name, sig, data } of ours) {
      expect(await verify(key.pub, { signatureAlgorithm: name, payload: data, signature: sig }), name).toBe(
        true,
      );
      const tampered = Buffer.from(data);
      tampered[0]! ^= 1;
      expect(
        await verify(key.pub, { signatureAlgorithm: name, payload: tampered, signature: sig }),
        name,
      ).toBe(false);
      const badSig = Buffer.from(sig);
      badSig[10]! ^= 1;
      expect(
        await verify(key.pub, { signatureAlgorithm: name, payload: data, signature: badSig }),
        name,
      ).toBe(false);
      expect(
        await verify(key.pub, { signatureAlgorithm: name, payload: data, signature: sig.subarray(1) }),
        name,
      ).toBe(false);
    }
  });

  it('refuses a PSS signature whose leading zero byte was dropped (not k bytes; OpenSSL alone accepts it)', async () => {
    const payload = Buffer.from('leading zero');
    let signature: Buffer = Buffer.alloc(0);
    // one PSS signature in 256 starts with a zero byte; 4096 tries miss one with probability e^-16
    for (let i = 0; i < 4096 && signature[0] !== 0; i++)
      signature = await sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_RSA_PSS', payload });
    expect(signature[0]).toBe(0);
    const request = { signatureAlgorithm: 'SHA256_WITH_RSA_PSS', payload };
    expect(await verify(key.pub, { ...request, signature })).toBe(true);
    expect(await verify(key.pub, { ...request, signature: signature.subarray(1) })).toBe(false);
  });

  it('refuses PSS with a hash too long for a 1024-bit key (607), and signs the ones that fit', async () => {
    const material = await generateKey({ algorithm: 'RSA', keySize: 1024 });
    const small = { ready: loadPrivate(material), pub: loadPublic('RSA', material.publicKey!, null) };
    for (const request of [
      { signatureAlgorithm: 'SHA512_WITH_RSA_PSS', payload },
      { signatureAlgorithm: 'NONE_WITH_RSA_PSS', payload: digestOf('sha512') },
    ]) {
      const refused = await tsbErrorOfAsync(() => sign(small.ready, request));
      expect(refused.errorCode, request.signatureAlgorithm).toBe(607);
      expect(refused.message).toMatch(/at least 1034 bits; this key has 1024/);
      const verifying = { ...request, signature: Buffer.alloc(128, 1) };
      expect((await tsbErrorOfAsync(() => verify(small.pub, verifying))).errorCode).toBe(607);
    }
    const fits = { signatureAlgorithm: 'SHA384_WITH_RSA_PSS', payload };
    const signature = await sign(small.ready, fits);
    expect(await verify(small.pub, { ...fits, signature })).toBe(true);
  });

  it('verifies signatures made by openssl', async () => {
    for (const hash of ['sha1', 'sha256', 'sha512']) {
      const pkcs1 = await opensslSign(key, ['dgst', `-${hash}`, '-sign', 'key.pem', 'in'], payload);
      const pss = await opensslSign(
        key,
        ['dgst', `-${hash}`, ...PSS_SIGOPT, '-sign', 'key.pem', 'in'],
        payload,
      );
      const prehashedPss = await opensslSign(
        key,
        ['pkeyutl', '-sign', '-inkey', 'key.pem', '-pkeyopt', `digest:${hash}`, ...PSS_PKEYOPT, '-in', 'in'],
        digestOf(hash),
      );
      const n = tsbName(hash);
      expect(await verify(key.pub, { signatureAlgorithm: `${n}_WITH_RSA`, payload, signature: pkcs1 })).toBe(
        true,
      );
      expect(
        await verify(key.pub, { signatureAlgorithm: `${n}_WITH_RSA_PSS`, payload, signature: pss }),
      ).toBe(true);
      expect(
        await verify(key.pub, {
          signatureAlgorithm: `NONE${n}_WITH_RSA_PSS`,
          payload: digestOf(hash),
          signature: prehashedPss,
        }),
      ).toBe(true);
      // PKCS#1 and PSS are not interchangeable
      expect(
        await verify(key.pub, { signatureAlgorithm: `${n}_WITH_RSA_PSS`, payload, signature: pkcs1 }),
      ).toBe(false);
    }
    const raw = Buffer.from('raw');
    const none = await opensslSign(key, ['pkeyutl', '-sign', '-inkey', 'key.pem', '-in', 'in'], raw);
    expect(
      await verify(key.pub, { signatureAlgorithm: 'NONE_WITH_RSA', payload: raw, signature: none }),
    ).toBe(true);
  });

  it('refuses digests of the wrong length (612), ECDSA names (607), unknown names (600), ETH (607)', async () => {
    expect(
      (await tsbErrorOfAsync(() => sign(key.ready, { signatureAlgorithm: 'NONESHA256_WITH_RSA', payload })))
        .errorCode,
    ).toBe(612);
    expect(
      (
        await tsbErrorOfAsync(() =>
          sign(key.ready, { signatureAlgorithm: 'NONE_WITH_RSA_PSS', payload: Buffer.alloc(33) }),
        )
      ).errorCode,
    ).toBe(612);
    expect(
      (
        await tsbErrorOfAsync(() =>
          sign(key.ready, { signatureAlgorithm: 'NONE_WITH_RSA', payload: Buffer.alloc(250) }),
        )
      ).errorCode,
    ).toBe(612);
    const wrong = await tsbErrorOfAsync(() =>
      sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_ECDSA', payload }),
    );
    expect(wrong.errorCode).toBe(607);
    expect(wrong.message).toMatch(/SHA256_WITH_ECDSA.*RSA/);
    expect(
      (await tsbErrorOfAsync(() => sign(key.ready, { signatureAlgorithm: 'MD5_WITH_RSA', payload })))
        .errorCode,
    ).toBe(600);
    expect(
      (
        await tsbErrorOfAsync(() =>
          sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_RSA', payload, signatureType: 'ETH' }),
        )
      ).errorCode,
    ).toBe(607);
    expect(
      (
        await tsbErrorOfAsync(() =>
          verify(key.pub, { signatureAlgorithm: 'EDDSA', payload, signature: Buffer.alloc(256) }),
        )
      ).errorCode,
    ).toBe(607);
    expect(
      (
        await tsbErrorOfAsync(() =>
          sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_RSA', payload, context: Buffer.of(1) }),
        )
      ).errorCode,
    ).toBe(600);
    expect(
      (
        await tsbErrorOfAsync(() =>
          sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_RSA', payload, payloadType: 'XML' }),
        )
      ).errorCode,
    ).toBe(600);
    // payloadType only describes the payload: HEX signs the same bytes
    const plain = await sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_RSA', payload });
    const hex = await sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_RSA', payload, payloadType: 'HEX' });
    expect(hex.equals(plain)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

const EC_CURVES = [
  { name: 'P-256', oid: '1.2.840.10045.3.1.7', width: 32 },
  { name: 'P-384', oid: '1.3.132.0.34', width: 48 },
  { name: 'P-521', oid: '1.3.132.0.35', width: 66 },
  { name: 'secp256k1', oid: '1.3.132.0.10', width: 32 },
  { name: 'brainpoolP256r1', oid: '1.3.36.3.3.2.8.1.1.7', width: 32 },
] as const;

const ECDSA_HASHED = [
  ['SHA1_WITH_ECDSA', 'sha1'],
  ['SHA224_WITH_ECDSA', 'sha224'],
  ['SHA256_WITH_ECDSA', 'sha256'],
  ['SHA384_WITH_ECDSA', 'sha384'],
  ['SHA512_WITH_ECDSA', 'sha512'],
  ['SHA3224_WITH_ECDSA', 'sha3-224'],
  ['SHA3256_WITH_ECDSA', 'sha3-256'],
  ['SHA3384_WITH_ECDSA', 'sha3-384'],
  ['SHA3512_WITH_ECDSA', 'sha3-512'],
  ['SHA256_WITH_ECDSA_DETERMINISTIC', 'sha256'],
] as const;

const derFromRaw = (raw: Buffer, width: number) => writeDerSignature(readRawSignature(raw, width)!);

describe.each(EC_CURVES)('ECDSA on $name', ({ oid, width, name }) => {
  let key: TestKey;
  beforeAll(async () => {
    key = await makeKey('EC', oid);
  });

  it('every hash, DOUBLE_SHA256, KECCAK, NONE and RAW encodings verify with openssl', async () => {
    const checks: Check[] = [];
    const ours: { alg: string; sig: Buffer; data: Buffer; type: 'DER' | 'RAW' }[] = [];
    for (const [alg, hash] of ECDSA_HASHED) {
      const der = await sign(key.ready, { signatureAlgorithm: alg, payload });
      const raw = await sign(key.ready, { signatureAlgorithm: alg, payload, signatureType: 'RAW' });
      expect(raw.length).toBe(2 * width);
      checks.push(dgstVerify(hash, der, payload), dgstVerify(hash, derFromRaw(raw, width), payload));
      ours.push({ alg, sig: der, data: payload, type: 'DER' }, { alg, sig: raw, data: payload, type: 'RAW' });
    }
    // DOUBLE_SHA256: ECDSA over SHA-256(SHA-256(payload)) = pkeyutl over the double digest
    const double = await sign(key.ready, { signatureAlgorithm: 'DOUBLE_SHA256_WITH_ECDSA', payload });
    checks.push(pkeyutlVerify(double, digestOf('sha256', digestOf('sha256'))));
    ours.push({ alg: 'DOUBLE_SHA256_WITH_ECDSA', sig: double, data: payload, type: 'DER' });
    // KECCAK (OpenSSL 3.0 has no Keccak digest): pkeyutl over the Keccak digest
    for (const bits of [224, 256, 384, 512]) {
      const { keccak_224, keccak_256: k256, keccak_384, keccak_512 } = await import('@noble/hashes/sha3.js');
      const keccak = { 224: keccak_224, 256: k256, 384: keccak_384, 512: keccak_512 }[bits]!;
      const sig = await sign(key.ready, { signatureAlgorithm: `KECCAK${bits}_WITH_ECDSA`, payload });
      checks.push(pkeyutlVerify(sig, Buffer.from(keccak(payload))));
      ours.push({ alg: `KECCAK${bits}_WITH_ECDSA`, sig, data: payload, type: 'DER' });
    }
    // NONE: the payload is the digest (32 and 64 bytes: longer digests are truncated like OpenSSL does)
    for (const digest of [digestOf('sha256'), digestOf('sha512')]) {
      const der = await sign(key.ready, { signatureAlgorithm: 'NONE_WITH_ECDSA', payload: digest });
      const raw = await sign(key.ready, {
        signatureAlgorithm: 'NONE_WITH_ECDSA',
        payload: digest,
        signatureType: 'RAW',
      });
      checks.push(pkeyutlVerify(der, digest), pkeyutlVerify(derFromRaw(raw, width), digest));
      ours.push(
        { alg: 'NONE_WITH_ECDSA', sig: der, data: digest, type: 'DER' },
        { alg: 'NONE_WITH_ECDSA', sig: raw, data: digest, type: 'RAW' },
      );
    }
    expect(await opensslAll(key, checks)).toEqual(checks.map(() => true));
    for (const { alg, sig, data, type } of ours) {
      expect(
        await verify(key.pub, {
          signatureAlgorithm: alg,
          payload: data,
          signature: sig,
          signatureType: type,
        }),
        alg,
      ).toBe(true);
      const tampered = Buffer.from(data);
      tampered[0]! ^= 1;
      expect(
        await verify(key.pub, {
          signatureAlgorithm: alg,
          payload: tampered,
          signature: sig,
          signatureType: type,
        }),
        alg,
      ).toBe(false);
      const badSig = Buffer.from(sig);
      badSig[badSig.length - 3]! ^= 1;
      expect(
        await verify(key.pub, {
          signatureAlgorithm: alg,
          payload: data,
          signature: badSig,
          signatureType: type,
        }),
        alg,
      ).toBe(false);
      // the other encoding does not parse
      expect(
        await verify(key.pub, {
          signatureAlgorithm: alg,
          payload: data,
          signature: sig,
          signatureType: type === 'DER' ? 'RAW' : 'DER',
        }),
        alg,
      ).toBe(false);
    }
    if (name === 'secp256k1') {
      // low s on secp256k1, whatever the path
      const n = secp256k1.Point.Fn.ORDER;
      for (const { sig, type } of ours) {
        const raw = type === 'RAW' ? sig : null;
        if (raw) expect(BigInt(`0x${raw.subarray(width).toString('hex')}`) <= n / 2n).toBe(true);
      }
    }
  });

  it('deterministic ECDSA gives the same signature twice; randomized ECDSA does not', async () => {
    const a = await sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_ECDSA_DETERMINISTIC', payload });
    const b = await sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_ECDSA_DETERMINISTIC', payload });
    expect(a.equals(b)).toBe(true);
    const c = await sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_ECDSA', payload });
    const d = await sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_ECDSA', payload });
    expect(c.equals(d)).toBe(false);
  });

  it('verifies signatures made by openssl (DER) over messages and digests', async () => {
    const sig = await opensslSign(key, ['dgst', '-sha384', '-sign', 'key.pem', 'in'], payload);
    expect(await verify(key.pub, { signatureAlgorithm: 'SHA384_WITH_ECDSA', payload, signature: sig })).toBe(
      true,
    );
    const digest = digestOf('sha256');
    const none = await opensslSign(key, ['pkeyutl', '-sign', '-inkey', 'key.pem', '-in', 'in'], digest);
    expect(
      await verify(key.pub, { signatureAlgorithm: 'NONE_WITH_ECDSA', payload: digest, signature: none }),
    ).toBe(true);
  });

  it('refuses ETH off secp256k1 or without KECCAK256, wrong names and bad digests', async () => {
    if (name !== 'secp256k1') {
      expect(
        (
          await tsbErrorOfAsync(() =>
            sign(key.ready, { signatureAlgorithm: 'KECCAK256_WITH_ECDSA', payload, signatureType: 'ETH' }),
          )
        ).errorCode,
      ).toBe(607);
    }
    expect(
      (
        await tsbErrorOfAsync(() =>
          sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_ECDSA', payload, signatureType: 'ETH' }),
        )
      ).errorCode,
    ).toBe(607);
    expect(
      (
        await tsbErrorOfAsync(() =>
          sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_ECDSA', payload, signatureType: 'JWS' }),
        )
      ).errorCode,
    ).toBe(600);
    expect(
      (await tsbErrorOfAsync(() => sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_RSA', payload })))
        .errorCode,
    ).toBe(607);
    expect(
      (
        await tsbErrorOfAsync(() =>
          sign(key.ready, { signatureAlgorithm: 'NONE_WITH_ECDSA', payload: Buffer.alloc(65) }),
        )
      ).errorCode,
    ).toBe(612);
    expect(
      await verify(key.pub, {
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
        payload,
        signature: Buffer.from('3006020101020101', 'hex').subarray(0, 5),
      }),
    ).toBe(false);
    expect(
      await verify(key.pub, { signatureAlgorithm: 'SHA256_WITH_ECDSA', payload, signature: Buffer.alloc(0) }),
    ).toBe(false);
  });
});

describe('ETH signatures (secp256k1, KECCAK256_WITH_ECDSA)', () => {
  it('r ‖ s ‖ v recovers to the key over keccak256(payload), low s, and verifies', async () => {
    const key = await makeKey('EC', '1.3.132.0.10');
    const point = decodeSpki(key.spki).publicKey;
    for (let i = 0; i < 8; i++) {
      const message = Buffer.concat([payload, Buffer.of(i)]);
      const sig = await sign(key.ready, {
        signatureAlgorithm: 'KECCAK256_WITH_ECDSA',
        payload: message,
        signatureType: 'ETH',
      });
      expect(sig.length).toBe(65);
      const v = sig[64]!;
      expect([27, 28]).toContain(v);
      const recovered = secp256k1.recoverPublicKey(
        Buffer.concat([Buffer.of(v - 27), sig.subarray(0, 64)]),
        keccak_256(message),
        { prehash: false },
      );
      expect(Buffer.from(secp256k1.Point.fromBytes(recovered).toBytes(false)).equals(point)).toBe(true);
      expect(BigInt(`0x${sig.subarray(32, 64).toString('hex')}`) <= secp256k1.Point.Fn.ORDER / 2n).toBe(true);
      expect(
        await verify(key.pub, {
          signatureAlgorithm: 'KECCAK256_WITH_ECDSA',
          payload: message,
          signature: sig,
          signatureType: 'ETH',
        }),
      ).toBe(true);
      const flipped = Buffer.from(sig);
      flipped[64] = v === 27 ? 28 : 27;
      expect(
        await verify(key.pub, {
          signatureAlgorithm: 'KECCAK256_WITH_ECDSA',
          payload: message,
          signature: flipped,
          signatureType: 'ETH',
        }),
      ).toBe(false);
      // r ‖ s is an ordinary ECDSA signature over the Keccak digest: check it with openssl
      if (i === 0) {
        const der = writeDerSignature(readRawSignature(sig.subarray(0, 64), 32)!);
        expect(await opensslAll(key, [pkeyutlVerify(der, Buffer.from(keccak_256(message)))])).toEqual([true]);
      }
    }
  });
});

describe('RFC 6979 deterministic ECDSA', () => {
  it('matches RFC 6979 A.2.5 (P-256, SHA-256, "sample")', async () => {
    const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
    const jwk = {
      kty: 'EC',
      crv: 'P-256',
      d: b64('C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721'),
      x: b64('60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6'),
      y: b64('7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299'),
    };
    const key = createPrivateKey({ key: jwk, format: 'jwk' });
    const ready: ReadyKey = {
      kind: 'node',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      key,
      publicKey: createPublicKey(key),
    };
    const sig = await sign(ready, {
      signatureAlgorithm: 'SHA256_WITH_ECDSA_DETERMINISTIC',
      payload: Buffer.from('sample'),
      signatureType: 'RAW',
    });
    expect(sig.toString('hex').toUpperCase()).toBe(
      'EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716' +
        'F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8',
    );
    expect(
      await verify(publicOf(ready), {
        signatureAlgorithm: 'SHA256_WITH_ECDSA_DETERMINISTIC',
        payload: Buffer.from('sample'),
        signature: sig,
        signatureType: 'RAW',
      }),
    ).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

describe('Ed25519', () => {
  it('EDDSA signatures verify with openssl pkeyutl -rawin, and openssl signatures with verify', async () => {
    const key = await makeKey('ED');
    const sig = await sign(key.ready, { signatureAlgorithm: 'EDDSA', payload });
    expect(sig.length).toBe(64);
    expect(await opensslAll(key, [pkeyutlVerify(sig, payload, ['-rawin'])])).toEqual([true]);
    expect(await verify(key.pub, { signatureAlgorithm: 'EDDSA', payload, signature: sig })).toBe(true);
    const theirs = await opensslSign(
      key,
      ['pkeyutl', '-sign', '-inkey', 'key.pem', '-rawin', '-in', 'in'],
      payload,
    );
    expect(await verify(key.pub, { signatureAlgorithm: 'EDDSA', payload, signature: theirs })).toBe(true);
    expect(
      await verify(key.pub, { signatureAlgorithm: 'EDDSA', payload: Buffer.from('other'), signature: sig }),
    ).toBe(false);
    expect(
      await verify(key.pub, { signatureAlgorithm: 'EDDSA', payload, signature: sig.subarray(0, 63) }),
    ).toBe(false);
    expect(
      (await tsbErrorOfAsync(() => sign(key.ready, { signatureAlgorithm: 'SHA256_WITH_ECDSA', payload })))
        .errorCode,
    ).toBe(607);
  });
});

describe('DSA-2048', () => {
  it('SHA-1/2 and NONE_WITH_DSA (DER and RAW) verify with openssl; openssl signatures verify', async () => {
    const key = dsaKey();
    const checks: Check[] = [];
    const ours: { alg: string; sig: Buffer; data: Buffer; type: 'DER' | 'RAW' }[] = [];
    for (const hash of SHA) {
      const alg = `${tsbName(hash)}_WITH_DSA`;
      const der = await sign(key.ready, { signatureAlgorithm: alg, payload });
      const raw = await sign(key.ready, { signatureAlgorithm: alg, payload, signatureType: 'RAW' });
      expect(raw.length).toBe(64);
      checks.push(dgstVerify(hash, der, payload), dgstVerify(hash, derFromRaw(raw, 32), payload));
      ours.push({ alg, sig: der, data: payload, type: 'DER' }, { alg, sig: raw, data: payload, type: 'RAW' });
    }
    const digest = digestOf('sha256');
    const none = await sign(key.ready, { signatureAlgorithm: 'NONE_WITH_DSA', payload: digest });
    checks.push(pkeyutlVerify(none, digest));
    ours.push({ alg: 'NONE_WITH_DSA', sig: none, data: digest, type: 'DER' });
    expect(await opensslAll(key, checks)).toEqual(checks.map(() => true));
    for (const { alg, sig, data, type } of ours) {
      expect(
        await verify(key.pub, {
          signatureAlgorithm: alg,
          payload: data,
          signature: sig,
          signatureType: type,
        }),
        alg,
      ).toBe(true);
      const tampered = Buffer.from(data);
      tampered[1]! ^= 1;
      expect(
        await verify(key.pub, {
          signatureAlgorithm: alg,
          payload: tampered,
          signature: sig,
          signatureType: type,
        }),
        alg,
      ).toBe(false);
    }
    const theirs = await opensslSign(key, ['dgst', '-sha256', '-sign', 'key.pem', 'in'], payload);
    expect(await verify(key.pub, { signatureAlgorithm: 'SHA256_WITH_DSA', payload, signature: theirs })).toBe(
      true,
    );
    const theirsNone = await opensslSign(key, ['pkeyutl', '-sign', '-inkey', 'key.pem', '-in', 'in'], digest);
    expect(
      await verify(key.pub, { signatureAlgorithm: 'NONE_WITH_DSA', payload: digest, signature: theirsNone }),
    ).toBe(true);
    expect(
      await verify(key.pub, {
        signatureAlgorithm: 'SHA256_WITH_DSA',
        payload,
        signature: Buffer.from('garbage'),
      }),
    ).toBe(false);
  });
});

describe('BIP-340 Schnorr signatures (secp256k1, NONE_WITH_EC_SCHNORR_BIP0340)', () => {
  const NAME = 'NONE_WITH_EC_SCHNORR_BIP0340';
  const message = createHash('sha256').update('a Taproot sighash').digest();

  it('signs the 32-byte message as given with the key as it is: noble verifies under the x-only key of its scalar', async () => {
    const key = await makeKey('EC', '1.3.132.0.10');
    const scalar = Buffer.from(
      createPrivateKey({ key: key.pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).d!,
      'base64url',
    );
    const xOnly = schnorr.getPublicKey(scalar);
    for (const signatureType of [undefined, 'DER', 'RAW']) {
      const signature = await sign(key.ready, { signatureAlgorithm: NAME, payload: message, signatureType });
      expect(signature).toHaveLength(64);
      expect(schnorr.verify(signature, message, xOnly)).toBe(true);
      expect(await verify(key.pub, { signatureAlgorithm: NAME, payload: message, signature })).toBe(true);
    }
    // fresh auxiliary randomness: two signatures of one message differ
    const [a, b] = await Promise.all(
      [1, 2].map(() => sign(key.ready, { signatureAlgorithm: NAME, payload: message })),
    );
    expect(a!.equals(b!)).toBe(false);
  });

  it('verifies a signature noble made and refuses one of another message, a changed byte or another length', async () => {
    const key = await makeKey('EC', '1.3.132.0.10');
    const scalar = Buffer.from(
      createPrivateKey({ key: key.pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).d!,
      'base64url',
    );
    const signature = Buffer.from(schnorr.sign(message, scalar));
    const check = (payload: Buffer, sig: Buffer) =>
      verify(key.pub, { signatureAlgorithm: NAME, payload, signature: sig });
    expect(await check(message, signature)).toBe(true);
    expect(await check(createHash('sha256').update('another').digest(), signature)).toBe(false);
    const changed = Buffer.from(signature);
    changed[63]! ^= 1;
    expect(await check(message, changed)).toBe(false);
    expect(await check(message, signature.subarray(0, 63))).toBe(false);
    expect(await check(message, Buffer.concat([signature, Buffer.of(0)]))).toBe(false);
  });

  it('signs what an independent BIP-340 verifier (BigInt, node:crypto SHA-256; BIP-340 vector 0) accepts', async () => {
    // vector 0 of BIP-340's test-vectors.csv: secret key 3, message and aux_rand all zero
    const vectorKey = 'F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9';
    const vectorSignature =
      'E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA821525F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0';
    const zero = Buffer.alloc(32);
    expect(bip340Verify(Buffer.from(vectorKey, 'hex'), zero, Buffer.from(vectorSignature, 'hex'))).toBe(true);
    expect(
      bip340Verify(Buffer.from(vectorKey, 'hex'), Buffer.alloc(32, 1), Buffer.from(vectorSignature, 'hex')),
    ).toBe(false);
    // our verify takes the vector too, under the key of scalar 3 imported as SEC1
    const three = importKey({
      algorithm: 'EC',
      privateKey: sequence(
        integer(1),
        octetString(Buffer.alloc(32).fill(3, 31)),
        explicit(0, objectIdentifier('1.3.132.0.10')),
      ),
    });
    const threePublic = loadPublic('EC', three.publicKey!, three.curveOid);
    expect(
      await verify(threePublic, {
        signatureAlgorithm: NAME,
        payload: zero,
        signature: Buffer.from(vectorSignature, 'hex'),
      }),
    ).toBe(true);
    // and what we sign, with a generated key, verifies independently under its x-only key
    const key = await makeKey('EC', '1.3.132.0.10');
    const xOnly = decodeSpki(key.spki).publicKey.subarray(1, 33);
    for (let i = 0; i < 8; i++) {
      const payload = createHash('sha256').update(`sighash ${i}`).digest();
      const signature = await sign(key.ready, { signatureAlgorithm: NAME, payload });
      expect(bip340Verify(xOnly, payload, signature)).toBe(true);
      expect(bip340Verify(xOnly, createHash('sha256').update(payload).digest(), signature)).toBe(false);
    }
  });

  it('a payload of another length than 32 bytes is 612; another curve, another key type or ETH is 607', async () => {
    const k1 = await makeKey('EC', '1.3.132.0.10');
    for (const length of [0, 31, 33, 64]) {
      expect(
        (
          await tsbErrorOfAsync(() =>
            sign(k1.ready, { signatureAlgorithm: NAME, payload: Buffer.alloc(length, 1) }),
          )
        ).errorCode,
      ).toBe(612);
    }
    expect(
      (
        await tsbErrorOfAsync(() =>
          sign(k1.ready, { signatureAlgorithm: NAME, payload: message, signatureType: 'ETH' }),
        )
      ).errorCode,
    ).toBe(607);
    const p256 = await makeKey('EC', '1.2.840.10045.3.1.7');
    expect(
      (await tsbErrorOfAsync(() => sign(p256.ready, { signatureAlgorithm: NAME, payload: message })))
        .errorCode,
    ).toBe(607);
    const ed = await makeKey('ED', '1.3.101.112');
    expect(
      (await tsbErrorOfAsync(() => sign(ed.ready, { signatureAlgorithm: NAME, payload: message }))).errorCode,
    ).toBe(607);
  });
});

// An independent BIP-340 verifier: affine secp256k1 arithmetic over BigInt and node:crypto's SHA-256.
const FIELD = 2n ** 256n - 0x1000003d1n;
const ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const G = {
  x: 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n,
  y: 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n,
};
type Point = { x: bigint; y: bigint } | null;
const mod = (a: bigint, m = FIELD) => ((a % m) + m) % m;
function power(base: bigint, exponent: bigint, m = FIELD): bigint {
  let result = 1n;
  for (let b = mod(base, m), e = exponent; e > 0n; e >>= 1n, b = (b * b) % m)
    if (e & 1n) result = (result * b) % m;
  return result;
}
function add(p: Point, q: Point): Point {
  if (!p) return q;
  if (!q) return p;
  if (p.x === q.x && mod(p.y + q.y) === 0n) return null;
  const slope =
    p.x === q.x
      ? mod(3n * p.x * p.x * power(2n * p.y, FIELD - 2n))
      : mod((q.y - p.y) * power(q.x - p.x, FIELD - 2n));
  const x = mod(slope * slope - p.x - q.x);
  return { x, y: mod(slope * (p.x - x) - p.y) };
}
function times(k: bigint, p: Point): Point {
  let result: Point = null;
  for (let addend = p, e = k; e > 0n; e >>= 1n, addend = add(addend, addend))
    if (e & 1n) result = add(result, addend);
  return result;
}
const big = (bytes: Buffer) => BigInt(`0x${bytes.toString('hex') || '0'}`);
function taggedHash(tag: string, ...parts: Buffer[]): Buffer {
  const tagHash = createHash('sha256').update(tag).digest();
  return createHash('sha256')
    .update(Buffer.concat([tagHash, tagHash, ...parts]))
    .digest();
}
function bip340Verify(publicKey: Buffer, message: Buffer, signature: Buffer): boolean {
  const x = big(publicKey);
  if (x >= FIELD || signature.length !== 64) return false;
  const y = power(mod(x ** 3n + 7n), (FIELD + 1n) / 4n);
  if (mod(y * y) !== mod(x ** 3n + 7n)) return false;
  const P = { x, y: y % 2n === 0n ? y : FIELD - y };
  const r = big(signature.subarray(0, 32));
  const s = big(signature.subarray(32));
  if (r >= FIELD || s >= ORDER) return false;
  const e = mod(big(taggedHash('BIP0340/challenge', signature.subarray(0, 32), publicKey, message)), ORDER);
  const R = add(times(s, G), times(ORDER - e, P));
  return R !== null && R.y % 2n === 0n && R.x === r;
}
