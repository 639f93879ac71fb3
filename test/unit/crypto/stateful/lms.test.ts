import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hssSignatureIndex, hssVerify } from '../../../../src/crypto/stateful/hss.js';
import { LMS_SCHEMES } from '../../../../src/crypto/stateful/lms.js';
import { levelParams } from '../../../../src/crypto/stateful/lms-params.js';
import {
  authPath,
  computeSubtree,
  lmsPublicKey,
  lmsSign,
  lmsVerify,
  subtreeRoot,
} from '../../../../src/crypto/stateful/lms-tree.js';

const fixtures = JSON.parse(
  readFileSync(new URL('./fixtures/rfc8554-appendix-f.json', import.meta.url), 'utf8'),
);
const hex = (value: string) => new Uint8Array(Buffer.from(value, 'hex'));
const scheme = (name: string) => LMS_SCHEMES.find((candidate) => candidate.name === name)!;

describe('RFC 8554 Appendix F', () => {
  for (const name of ['testCase1', 'testCase2']) {
    it(`${name}: the signature verifies; a changed message or signature does not`, () => {
      const { publicKey, message, signature } = fixtures[name];
      expect(hssVerify(hex(publicKey), hex(message), hex(signature))).toBe(true);
      const other = hex(message);
      other[0]! ^= 1;
      expect(hssVerify(hex(publicKey), other, hex(signature))).toBe(false);
      const bad = hex(signature);
      bad[bad.length - 1]! ^= 1;
      expect(hssVerify(hex(publicKey), hex(message), bad)).toBe(false);
      expect(hssVerify(hex(publicKey), hex(message), hex(signature).subarray(1))).toBe(false);
    });
  }

  it('test case 2: the second-level private key gives its public key and reproduces the final signature', () => {
    const { message, signature, secondLevelPrivateKey: key } = fixtures.testCase2;
    const level = levelParams(5, 8);
    expect(level.lms.id).toBe(key.lmsType);
    expect(level.ots.id).toBe(key.lmotsType);
    const seeds = { I: hex(key.I), seed: hex(key.SEED) };
    const tree = computeSubtree(level, seeds, 0);
    const publicKey = lmsPublicKey(level, seeds.I, subtreeRoot(tree));
    expect(publicKey.toString('hex')).toBe(key.publicKey);
    const mine = lmsSign(level, seeds, key.q, hex(message), authPath(level, key.q, tree, tree));
    const theirs = hex(signature).subarray(hex(signature).length - mine.length);
    expect(Buffer.from(mine).equals(Buffer.from(theirs))).toBe(true);
    expect(lmsVerify(publicKey, hex(message), mine)).toBe(true);
    // the public key of the second level is the one the top level signed in the RFC's signature
    expect(Buffer.from(signature, 'hex').includes(publicKey)).toBe(true);
  });

  it('indexOf reads the index from both levels', () => {
    // q0 · 2^5 + q1, with q0 read from the bytes
    const sig = hex(fixtures.testCase1.signature);
    const q0 = Buffer.from(sig).readUInt32BE(4);
    const index = hssSignatureIndex(sig);
    expect(Math.floor(index / 32)).toBe(q0);
    expect(hssSignatureIndex(hex(fixtures.testCase2.signature)) % 32).toBe(4);
  });
});

describe('LMS schemes', () => {
  it('LMS (the TSB default): HSS with one level, H5 / W1, 32 signatures of 8,688 bytes, 60-byte public key', async () => {
    const lms = scheme('LMS');
    expect(lms.family).toBe('HSS-LMS');
    expect(lms.maxSignatures).toBe(32);
    expect(lms.signatureLength).toBe(8688);
    const { privateKey, publicKey } = await lms.generate();
    expect(publicKey).toHaveLength(60);
    expect(Buffer.from(publicKey).readUInt32BE(0)).toBe(1);
    expect(Buffer.from(privateKey).includes(Buffer.from([0, 0, 0, 5, 0, 0, 0, 1]))).toBe(true);
    const message = new TextEncoder().encode('firmware image');
    for (const index of [0, 1, 17, 31]) {
      const signature = await lms.sign(privateKey, index, message);
      expect(signature).toHaveLength(8688);
      expect(lms.indexOf(signature)).toBe(index);
      expect(lms.verify(publicKey, message, signature)).toBe(true);
      expect(lms.verify(publicKey, new TextEncoder().encode('other'), signature)).toBe(false);
      // deterministic: the same index signs the same way (which is why an index must never repeat)
      expect(Buffer.from(await lms.sign(privateKey, index, message)).equals(Buffer.from(signature))).toBe(
        true,
      );
    }
    await expect(lms.sign(privateKey, 32, message)).rejects.toThrow(/out of range/);
    await expect(lms.sign(privateKey, -1, message)).rejects.toThrow(/out of range/);
  });

  it('two levels (H5/W8 over H5/W8): 1,024 signatures, indices across lower trees', async () => {
    const hss = scheme('LMS-SHA256_M32_H5_W8-H5_W8');
    expect(hss.maxSignatures).toBe(1024);
    const { privateKey, publicKey } = await hss.generate();
    expect(Buffer.from(publicKey).readUInt32BE(0)).toBe(2);
    const message = new Uint8Array([1, 2, 3]);
    for (const index of [0, 31, 32, 1023]) {
      const signature = await hss.sign(privateKey, index, message);
      expect(signature).toHaveLength(hss.signatureLength);
      expect(hss.indexOf(signature)).toBe(index);
      expect(hss.verify(publicKey, message, signature)).toBe(true);
    }
  });

  it('signature sizes and counts of every parameter set', () => {
    const table = Object.fromEntries(LMS_SCHEMES.map((s) => [s.name, [s.maxSignatures, s.signatureLength]]));
    expect(table).toMatchObject({
      LMS: [32, 8688],
      'LMS-SHA256_M32_H10_W4': [1024, 2512],
      'LMS-SHA256_M32_H10_W8': [1024, 1456],
      'LMS-SHA256_M32_H15_W4': [32768, 2672],
      'LMS-SHA256_M32_H20_W8': [1048576, 1776],
      'LMS-SHA256_M32_H10_W4-H10_W4': [1048576, 5076],
    });
  });
});
