import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { xmssKeyFromSeeds, xmssSign, xmssVerify } from '../../../../src/crypto/stateful/xmss.js';
import { decodeXmssPrivateKey } from '../../../../src/crypto/stateful/xmss-keys.js';
import {
  XMSS_SHA2_10_256,
  XMSS_SHAKE256_10_256,
  xmssParamsByOid,
} from '../../../../src/crypto/stateful/xmss-params.js';
import {
  XMSS_SCHEMES,
  XMSS_SHA256_10_256,
  XMSS_SHAKE256_10_256_SCHEME,
} from '../../../../src/crypto/stateful/xmss-schemes.js';
import { TsbError } from '../../../../src/errors.js';
import { referenceSeeds, xmssKnownAnswer } from './xmss-known-answers.js';

const KEYGEN_TIMEOUT = 60_000;

/** A copy of `bytes` with one bit flipped at `offset` */
function flipped(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[offset]! ^= 0x01;
  return copy;
}

function kat(name: string) {
  const answer = xmssKnownAnswer(name);
  const seeds = referenceSeeds(answer.referencePrivateKey);
  return { ...answer, ...seeds };
}

const SHA2_KAT = kat('XMSS-SHA2_10_256');
/** the key pair of the SHA2 known answer, computed once for the tests that sign with it */
let sha2Key: { privateKey: Uint8Array; publicKey: Uint8Array } | undefined;
function sha2KatKey() {
  sha2Key ??= xmssKeyFromSeeds(XMSS_SHA2_10_256, SHA2_KAT.skSeed, SHA2_KAT.skPrf, SHA2_KAT.pubSeed);
  return sha2Key;
}

describe('XMSS known answers (liboqs / XMSS reference implementation)', () => {
  it.each([
    'XMSS-SHA2_10_256',
    'XMSS-SHA2_16_256',
    'XMSS-SHA2_20_256',
    'XMSS-SHAKE256_10_256',
    'XMSS-SHAKE256_16_256',
    'XMSS-SHAKE256_20_256',
  ])('%s: the published signature verifies, and fails on another message', (name) => {
    const answer = xmssKnownAnswer(name);
    expect(xmssParamsByOid(answer.publicKey.readUInt32BE(0))?.name).toBe(name);
    expect(xmssVerify(answer.publicKey, answer.message, answer.signature)).toBe(true);
    expect(xmssVerify(answer.publicKey, flipped(answer.message, 0), answer.signature)).toBe(false);
  });

  it('the TSB schemes verify the published signatures of their parameter set only', () => {
    const shake = kat('XMSS-SHAKE256_10_256');
    expect(XMSS_SHA256_10_256.verify(SHA2_KAT.publicKey, SHA2_KAT.message, SHA2_KAT.signature)).toBe(true);
    expect(XMSS_SHAKE256_10_256_SCHEME.verify(shake.publicKey, shake.message, shake.signature)).toBe(true);
    expect(XMSS_SHAKE256_10_256_SCHEME.verify(SHA2_KAT.publicKey, SHA2_KAT.message, SHA2_KAT.signature)).toBe(
      false,
    );
    expect(XMSS_SHA256_10_256.verify(shake.publicKey, shake.message, shake.signature)).toBe(false);
  });

  it(
    'XMSS-SHA2_10_256: the published seeds give the published public key and signature, byte for byte',
    () => {
      const { privateKey, publicKey } = sha2KatKey();
      expect(Buffer.from(publicKey).toString('hex')).toBe(SHA2_KAT.publicKey.toString('hex'));
      const signature = xmssSign(XMSS_SHA2_10_256, privateKey, 0, SHA2_KAT.message);
      expect(Buffer.from(signature).toString('hex')).toBe(SHA2_KAT.signature.toString('hex'));
    },
    KEYGEN_TIMEOUT,
  );

  it(
    'XMSS-SHAKE256_10_256: the published seeds give the published public key and signature, byte for byte',
    async () => {
      const answer = kat('XMSS-SHAKE256_10_256');
      const { privateKey, publicKey } = xmssKeyFromSeeds(
        XMSS_SHAKE256_10_256,
        answer.skSeed,
        answer.skPrf,
        answer.pubSeed,
      );
      expect(Buffer.from(publicKey).toString('hex')).toBe(answer.publicKey.toString('hex'));
      const signature = await XMSS_SHAKE256_10_256_SCHEME.sign(privateKey, 0, answer.message);
      expect(Buffer.from(signature).toString('hex')).toBe(answer.signature.toString('hex'));
    },
    KEYGEN_TIMEOUT,
  );
});

/** test/vectors.c of the XMSS reference implementation (fixtures/README.md) */
const REFERENCE = JSON.parse(
  readFileSync(new URL('./fixtures/xmss-reference-vectors.json', import.meta.url), 'utf8'),
) as {
  index: number;
  messageHex: string;
  vectors: { name: string; oid: number; publicKeyDigest: string; signatureDigest: string }[];
};

const fingerprint = (bytes: Uint8Array) =>
  createHash('shake128', { outputLength: 10 }).update(bytes).digest('hex');

describe('XMSS reference implementation vectors (index 512)', () => {
  it.each(REFERENCE.vectors)(
    '$name: the seed 00…5f gives the reference public key and signature at index 512',
    (vector) => {
      const params = xmssParamsByOid(vector.oid)!;
      expect(params.name).toBe(vector.name);
      const seed = Buffer.from(Array.from({ length: 96 }, (_, i) => i));
      const key = xmssKeyFromSeeds(params, seed.subarray(0, 32), seed.subarray(32, 64), seed.subarray(64));
      expect(fingerprint(key.publicKey.subarray(4))).toBe(vector.publicKeyDigest);
      const message = Buffer.from(REFERENCE.messageHex, 'hex');
      const signature = xmssSign(params, key.privateKey, REFERENCE.index, message);
      expect(fingerprint(signature)).toBe(vector.signatureDigest);
      expect(xmssVerify(key.publicKey, message, signature)).toBe(true);
    },
    KEYGEN_TIMEOUT,
  );
});

describe('XMSS signatures', () => {
  it('the schemes have the TSB names, the family XMSS and the RFC 8391 sizes', () => {
    expect(XMSS_SCHEMES.map((scheme) => scheme.name)).toEqual(['XMSS-SHA256_10_256', 'XMSS-SHAKE256_10_256']);
    for (const scheme of XMSS_SCHEMES) {
      expect(scheme.family).toBe('XMSS');
      expect(scheme.maxSignatures).toBe(1024);
      expect(scheme.signatureLength).toBe(2500);
    }
  });

  it(
    'every index gives a distinct signature that verifies and reports its index',
    async () => {
      const { privateKey, publicKey } = sha2KatKey();
      const message = Buffer.from('the same message at every index');
      const seen = new Set<string>();
      for (let index = 0; index < XMSS_SHA256_10_256.maxSignatures; index++) {
        const signature = await XMSS_SHA256_10_256.sign(privateKey, index, message);
        expect(signature.length).toBe(2500);
        expect(XMSS_SHA256_10_256.indexOf(signature)).toBe(index);
        expect(XMSS_SHA256_10_256.verify(publicKey, message, signature)).toBe(true);
        seen.add(Buffer.from(signature).toString('base64'));
      }
      expect(seen.size).toBe(1024);
    },
    KEYGEN_TIMEOUT,
  );

  it('a changed message, signature byte or index fails', async () => {
    const { privateKey, publicKey } = sha2KatKey();
    const message = Buffer.from('message');
    const signature = await XMSS_SHA256_10_256.sign(privateKey, 7, message);
    expect(XMSS_SHA256_10_256.verify(publicKey, message, signature)).toBe(true);
    expect(XMSS_SHA256_10_256.verify(publicKey, Buffer.from('messagE'), signature)).toBe(false);
    expect(XMSS_SHA256_10_256.verify(publicKey, Buffer.concat([message, Buffer.of(0)]), signature)).toBe(
      false,
    );
    // the index, r, the first and last WOTS+ chain, the first and last node of the authentication path
    for (const offset of [3, 4, 36, 36 + 66 * 32, 36 + 67 * 32, 2499]) {
      expect(XMSS_SHA256_10_256.verify(publicKey, message, flipped(signature, offset))).toBe(false);
    }
    const otherIndex = new Uint8Array(signature);
    otherIndex[3] = 8;
    expect(XMSS_SHA256_10_256.verify(publicKey, message, otherIndex)).toBe(false);
    expect(XMSS_SHA256_10_256.verify(publicKey, message, signature.subarray(0, 2499))).toBe(false);
    expect(XMSS_SHA256_10_256.verify(publicKey, message, Buffer.concat([signature, Buffer.of(0)]))).toBe(
      false,
    );
    expect(XMSS_SHA256_10_256.verify(flipped(publicKey, 10), message, signature)).toBe(false);
    expect(XMSS_SHA256_10_256.verify(flipped(publicKey, 40), message, signature)).toBe(false);
    expect(XMSS_SHA256_10_256.verify(publicKey.subarray(0, 67), message, signature)).toBe(false);
  });

  it(
    'an index past the tree, below 0 or not an integer is refused, and so is a key of another set',
    async () => {
      const { privateKey } = sha2KatKey();
      for (const index of [-1, 1024, 1.5, Number.NaN]) {
        expect(() => xmssSign(XMSS_SHA2_10_256, privateKey, index, Buffer.of(1))).toThrow(TsbError);
      }
      expect(() => xmssSign(XMSS_SHAKE256_10_256, privateKey, 0, Buffer.of(1))).toThrow(TsbError);
      expect(() => xmssSign(XMSS_SHA2_10_256, privateKey.subarray(1), 0, Buffer.of(1))).toThrow(TsbError);
      // a root that does not belong to the seeds
      expect(() => xmssSign(XMSS_SHA2_10_256, flipped(privateKey, 4 + 64), 0, Buffer.of(1))).toThrow(
        'does not match its root',
      );
      // through the scheme (the XMSS worker pool) the refusal arrives too
      await expect(XMSS_SHA256_10_256.sign(privateKey, 1024, Buffer.of(1))).rejects.toThrow(/index/);
    },
    KEYGEN_TIMEOUT,
  );

  it('the private key holds the OID and the four n-byte values, never an index', () => {
    const { privateKey, publicKey } = sha2KatKey();
    expect(privateKey.length).toBe(4 + 4 * 32);
    expect(publicKey.length).toBe(68);
    const key = decodeXmssPrivateKey(privateKey);
    expect(key.params).toBe(XMSS_SHA2_10_256);
    expect(key.skSeed.equals(SHA2_KAT.skSeed)).toBe(true);
    expect(key.skPrf.equals(SHA2_KAT.skPrf)).toBe(true);
    expect(key.pubSeed.equals(SHA2_KAT.pubSeed)).toBe(true);
    expect(key.root.equals(SHA2_KAT.publicKey.subarray(4, 36))).toBe(true);
  });

  it(
    'a generated key signs at its first and last index',
    async () => {
      const { privateKey, publicKey } = await XMSS_SHA256_10_256.generate();
      expect(privateKey.length).toBe(132);
      expect(Buffer.from(publicKey).readUInt32BE(0)).toBe(XMSS_SHA2_10_256.oid);
      for (const index of [0, 1023]) {
        const signature = await XMSS_SHA256_10_256.sign(privateKey, index, Buffer.from('hello'));
        expect(XMSS_SHA256_10_256.verify(publicKey, Buffer.from('hello'), signature)).toBe(true);
        expect(xmssVerify(SHA2_KAT.publicKey, Buffer.from('hello'), signature)).toBe(false);
      }
    },
    KEYGEN_TIMEOUT,
  );
});
