import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { openssl, withScratch } from '../helpers/openssl.js';
import {
  type OpensslCheck,
  opensslSign,
  opensslVerify,
  rawPublicKeyOfSpki,
  rawToDer,
} from '../helpers/signatures.js';

let t: TestContext;
const P = 'signer';
const KM = ['keyManagement'] as const;
const KO = ['keyOperation'] as const;
const signOnly = { decrypt: false, sign: true, unwrap: false, destroyable: true };
const DATA = Buffer.from('OpenTSB signs this payload — with some bytes \x00\x01\xff');
const OTHER = Buffer.from('OpenTSB signs this payload — with some bytes \x00\x01\xfe');

/** The keys of this file, created once, by label: their public key (DER SPKI) from the create response. */
const spkis = new Map<string, Buffer>();

const KEYS: Array<{ label: string; body: object }> = [
  { label: 'rsa', body: { algorithm: 'RSA', keySize: 2048 } },
  { label: 'p256', body: { algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7' } },
  { label: 'k1', body: { algorithm: 'EC', curveOid: '1.3.132.0.10' } },
  { label: 'bp256', body: { algorithm: 'EC', curveOid: '1.3.36.3.3.2.8.1.1.7' } },
  { label: 'ed', body: { algorithm: 'ED', curveOid: '1.3.101.112' } },
  { label: 'dsa', body: { algorithm: 'DSA', keySize: 2048 } },
  { label: 'mldsa', body: { algorithm: 'ML-DSA-65' } },
  { label: 'slh', body: { algorithm: 'SLH-DSA-SHA2-128F' } },
  { label: 'bls', body: { algorithm: 'BLS' } },
  {
    label: 'eth',
    body: {
      algorithm: 'EC',
      curveOid: '1.3.132.0.10',
      addressFormat: { format: 'ETH' },
      policy: {
        ruleUse: null,
        ruleBlock: null,
        ruleUnblock: null,
        ruleModify: null,
        keyStatus: { blocked: false },
      },
    },
  },
];

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
  await Promise.all(
    KEYS.map(async ({ label, body }) => {
      const response = await t.call(P, [...KM], {
        method: 'POST',
        url: '/v1/key',
        body: { label, attributes: signOnly, ...body },
      });
      expect(response.statusCode, `${label}: ${response.body}`).toBe(201);
      spkis.set(label, Buffer.from(response.json().json.publicKey, 'base64'));
    }),
  );
});
afterAll(() => t.close());

const spkiOf = (label: string): Buffer => spkis.get(label)!;

async function sign(
  signKeyName: string,
  signatureAlgorithm: string,
  payload: Buffer,
  extra: object = {},
): Promise<Buffer> {
  const response = await t.call(P, [...KO], {
    method: 'POST',
    url: '/v1/synchronousSign',
    body: {
      signRequest: { payload: payload.toString('base64'), signKeyName, signatureAlgorithm, ...extra },
    },
  });
  expect(response.statusCode, response.body).toBe(200);
  return Buffer.from(response.json().signature, 'base64');
}

async function verify(
  signKeyName: string,
  signatureAlgorithm: string,
  payload: Buffer,
  signature: Buffer,
  extra: object = {},
): Promise<boolean> {
  const response = await t.call(P, [...KO], {
    method: 'POST',
    url: '/v1/verify',
    body: {
      verifySignatureRequest: {
        signKeyName,
        signatureAlgorithm,
        payload: payload.toString('base64'),
        signature: signature.toString('base64'),
        ...extra,
      },
    },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().signatureValid;
}

/** The service verifies its own signature, and refuses it over a changed payload. */
async function expectServiceVerifies(
  label: string,
  algorithm: string,
  payload: Buffer,
  changed: Buffer,
  signature: Buffer,
  extra: object = {},
): Promise<void> {
  expect(await verify(label, algorithm, payload, signature, extra)).toBe(true);
  expect(await verify(label, algorithm, changed, signature, extra)).toBe(false);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

describe('POST /v1/synchronousSign: signatures that openssl verifies', () => {
  it.each<[string, string, string, OpensslCheck]>([
    ['RSA PKCS#1 v1.5 SHA-256', 'rsa', 'SHA256_WITH_RSA', { kind: 'digest', digest: 'sha256' }],
    [
      'RSA-PSS SHA-384 (salt = hash length)',
      'rsa',
      'SHA384_WITH_RSA_PSS',
      { kind: 'digest', digest: 'sha384', pss: { saltLength: 48 } },
    ],
    ['ECDSA P-256 SHA-256 (DER)', 'p256', 'SHA256_WITH_ECDSA', { kind: 'digest', digest: 'sha256' }],
    ['ECDSA P-256 SHA3-256 (DER)', 'p256', 'SHA3256_WITH_ECDSA', { kind: 'digest', digest: 'sha3-256' }],
    ['ECDSA secp256k1 SHA-256', 'k1', 'SHA256_WITH_ECDSA', { kind: 'digest', digest: 'sha256' }],
    ['ECDSA brainpoolP256r1 SHA-256', 'bp256', 'SHA256_WITH_ECDSA', { kind: 'digest', digest: 'sha256' }],
    ['Ed25519 (EDDSA)', 'ed', 'EDDSA', { kind: 'raw' }],
    ['DSA-2048 SHA-256', 'dsa', 'SHA256_WITH_DSA', { kind: 'digest', digest: 'sha256' }],
  ])('%s', async (_name, label, algorithm, check) => {
    const signature = await sign(label, algorithm, DATA);
    expect(await opensslVerify(spkiOf(label), DATA, signature, check)).toBe(true);
    expect(await opensslVerify(spkiOf(label), OTHER, signature, check)).toBe(false);
    await expectServiceVerifies(label, algorithm, DATA, OTHER, signature);
  });

  it('NONESHA256_WITH_RSA signs a caller-computed digest as SHA256withRSA over the data', async () => {
    const signature = await sign('rsa', 'NONESHA256_WITH_RSA', sha256(DATA));
    expect(await opensslVerify(spkiOf('rsa'), DATA, signature, { kind: 'digest', digest: 'sha256' })).toBe(
      true,
    );
    await expectServiceVerifies('rsa', 'NONESHA256_WITH_RSA', sha256(DATA), sha256(OTHER), signature);
    // the same signature is a plain SHA256_WITH_RSA signature of the data (PKCS#1 v1.5 is deterministic)
    expect(await sign('rsa', 'SHA256_WITH_RSA', DATA)).toEqual(signature);
  });

  it('ECDSA RAW is r ‖ s (64 bytes on P-256) and is the same signature openssl checks as DER', async () => {
    const signature = await sign('p256', 'SHA256_WITH_ECDSA', DATA, { signatureType: 'RAW' });
    expect(signature).toHaveLength(64);
    expect(
      await opensslVerify(spkiOf('p256'), DATA, rawToDer(signature), { kind: 'digest', digest: 'sha256' }),
    ).toBe(true);
    await expectServiceVerifies('p256', 'SHA256_WITH_ECDSA', DATA, OTHER, signature, {
      signatureType: 'RAW',
    });
    // a RAW signature is not a DER one; a request naming no type accepts either (tsb-client-go)
    expect(await verify('p256', 'SHA256_WITH_ECDSA', DATA, signature, { signatureType: 'DER' })).toBe(false);
    expect(await verify('p256', 'SHA256_WITH_ECDSA', DATA, signature)).toBe(true);
  });

  it('SHA256_WITH_ECDSA_DETERMINISTIC (RFC 6979) signs the same payload to identical bytes', async () => {
    const first = await sign('p256', 'SHA256_WITH_ECDSA_DETERMINISTIC', DATA);
    const second = await sign('p256', 'SHA256_WITH_ECDSA_DETERMINISTIC', DATA);
    expect(second).toEqual(first);
    expect(await opensslVerify(spkiOf('p256'), DATA, first, { kind: 'digest', digest: 'sha256' })).toBe(true);
    await expectServiceVerifies('p256', 'SHA256_WITH_ECDSA_DETERMINISTIC', DATA, OTHER, first);
    // randomised ECDSA gives a different signature each time
    const randomised = await sign('p256', 'SHA256_WITH_ECDSA', DATA);
    expect(await sign('p256', 'SHA256_WITH_ECDSA', DATA)).not.toEqual(randomised);
  });
});

describe('POST /v1/verify with signatures made by openssl (public key imported alone)', () => {
  it.each<[string, string, string[], { digest: string; pss?: { saltLength: number } } | 'raw', string]>([
    [
      'RSA-PSS SHA-256',
      'RSA',
      ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
      { digest: 'sha256', pss: { saltLength: 32 } },
      'SHA256_WITH_RSA_PSS',
    ],
    [
      'ECDSA P-256 SHA-256',
      'EC',
      ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      { digest: 'sha256' },
      'SHA256_WITH_ECDSA',
    ],
    ['Ed25519', 'ED', ['-algorithm', 'ED25519'], 'raw', 'EDDSA'],
  ])('%s', async (name, algorithm, genpkey, how, signatureAlgorithm) => {
    const { spki, signature } = await opensslSign(genpkey, DATA, how);
    const label = `imported-${name.replace(/[^A-Za-z0-9]/g, '')}`;
    const imported = await t.call(P, [...KM], {
      method: 'POST',
      url: '/v1/key/import/plain',
      body: { label, algorithm, publicKey: spki.toString('base64') },
    });
    expect(imported.statusCode, imported.body).toBe(201);
    expect(imported.json().json.publicKey).toBe(spki.toString('base64'));
    await expectServiceVerifies(label, signatureAlgorithm, DATA, OTHER, signature);
    // a verify-only key cannot sign
    const refused = await t.call(P, [...KO], {
      method: 'POST',
      url: '/v1/synchronousSign',
      body: { signRequest: { payload: DATA.toString('base64'), signKeyName: label, signatureAlgorithm } },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().errorCode).toBe(614);
  });
});

describe('POST /v1/verify with a key imported from a certificate alone', () => {
  it('verifies what openssl signed with the certificate key', async () => {
    const { certificate, signature } = await withScratch(async (dir) => {
      await openssl(
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-384',
          '-nodes',
          '-subj',
          '/CN=verifier',
          '-days',
          '2',
          '-keyout',
          'key.pem',
          '-out',
          'cert.pem',
        ],
        dir,
      );
      await writeFile(path.join(dir, 'data'), DATA);
      await openssl(['dgst', '-sha384', '-sign', 'key.pem', '-out', 'sig', 'data'], dir);
      return {
        certificate: await readFile(path.join(dir, 'cert.pem'), 'utf8'),
        signature: await readFile(path.join(dir, 'sig')),
      };
    });
    const imported = await t.call(P, [...KM], {
      method: 'POST',
      url: '/v1/key/import/plain',
      body: { label: 'from-certificate', algorithm: 'EC', certificate },
    });
    expect(imported.statusCode, imported.body).toBe(201);
    expect(imported.json().json.curveOid).toBe('1.3.132.0.34');
    await expectServiceVerifies('from-certificate', 'SHA384_WITH_ECDSA', DATA, OTHER, signature);
  });
});

describe('ETH signatures (KECCAK256_WITH_ECDSA, signatureType ETH) on an SKA key with the empty policy', () => {
  it('recovers, from r ‖ s ‖ v, the address POST /v1/key/address gives', async () => {
    const transaction = Buffer.from('an Ethereum transaction hash preimage');
    const signature = await sign('eth', 'KECCAK256_WITH_ECDSA', transaction, { signatureType: 'ETH' });
    expect(signature).toHaveLength(65);
    const v = signature[64]!;
    expect([27, 28]).toContain(v);
    const s = BigInt(`0x${signature.subarray(32, 64).toString('hex')}`);
    expect(s <= secp256k1.Point.CURVE().n / 2n).toBe(true); // low s (EIP-2)

    const recovered = secp256k1.recoverPublicKey(
      Buffer.concat([Buffer.of(v - 27), signature.subarray(0, 64)]),
      keccak_256(transaction),
      { prehash: false },
    );
    const uncompressed = secp256k1.Point.fromBytes(recovered).toBytes(false);
    const recoveredAddress = `0x${Buffer.from(keccak_256(uncompressed.subarray(1)).subarray(12)).toString('hex')}`;

    const response = await t.call(P, [...KM], {
      method: 'POST',
      url: '/v1/key/address',
      body: { label: 'eth' },
    });
    expect(response.statusCode, response.body).toBe(200);
    const { address } = response.json();
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(address.toLowerCase()).toBe(recoveredAddress);
    // and the recovered key is the key's own public key
    expect(Buffer.from(uncompressed.subarray(1)).equals(spkiOf('eth').subarray(-64))).toBe(true);

    await expectServiceVerifies('eth', 'KECCAK256_WITH_ECDSA', transaction, DATA, signature, {
      signatureType: 'ETH',
    });
  });
});

describe('post-quantum and BLS signatures', () => {
  it('ML-DSA-65 (ML_DSA): /v1/verify, and noble verifies with the raw public key of the SPKI', async () => {
    const signature = await sign('mldsa', 'ML_DSA', DATA);
    expect(signature).toHaveLength(3309);
    await expectServiceVerifies('mldsa', 'ML_DSA', DATA, OTHER, signature);
    const raw = rawPublicKeyOfSpki(spkiOf('mldsa'), 1952);
    expect(ml_dsa65.verify(signature, DATA, raw)).toBe(true);
    expect(ml_dsa65.verify(signature, OTHER, raw)).toBe(false);
  });

  it('SLH-DSA-SHA2-128f (SLH_DSA)', async () => {
    const signature = await sign('slh', 'SLH_DSA', DATA);
    expect(signature).toHaveLength(17_088);
    await expectServiceVerifies('slh', 'SLH_DSA', DATA, OTHER, signature);
  });

  it('BLS12-381', async () => {
    const signature = await sign('bls', 'BLS', DATA);
    await expectServiceVerifies('bls', 'BLS', DATA, OTHER, signature);
  });
});
