import { createPublicKey, createSign, createVerify, randomBytes } from 'node:crypto';
import { HDKey } from '@scure/bip32';
import { describe, expect, it } from 'vitest';
import {
  deriveChildPrivate,
  deriveChildPublic,
  masterKey,
  neuter,
  serializeExtendedKey,
} from '../../../../src/crypto/derivation/bip32.js';
import type { ExtendedPrivateKey } from '../../../../src/crypto/derivation/extended-keys.js';
import { deriveChild, masterFromSeed } from '../../../../src/crypto/derivation/key-derivation.js';
import { childNumber } from '../../../../src/crypto/derivation/path.js';
import { stepsOf } from './helpers.js';
import { BIP32_VECTORS } from './vectors.js';

const SECP256K1 = '1.3.132.0.10';

describe('BIP32 test vectors (secp256k1)', () => {
  for (const [i, vector] of BIP32_VECTORS.entries()) {
    describe(`test vector ${i + 1}`, () => {
      const seed = Buffer.from(vector.seed, 'hex');
      for (const chain of vector.chains) {
        it(`chain ${chain.path}: xprv and xpub`, () => {
          let key: ExtendedPrivateKey = masterKey('secp256k1', seed);
          for (const step of stepsOf(chain.path)) key = deriveChildPrivate(key, childNumber(step));
          expect(serializeExtendedKey(key, 'private')).toBe(chain.xprv);
          expect(serializeExtendedKey(key, 'public')).toBe(chain.xpub);
          expect(serializeExtendedKey(neuter(key))).toBe(chain.xpub);
        });

        it(`chain ${chain.path}: deriveChild gives the same key as KeyMaterial`, () => {
          const master = masterFromSeed(SECP256K1, seed);
          const derived = deriveChild(
            {
              algorithm: 'EC',
              curveOid: SECP256K1,
              privateKey: master.extended.privateKey,
              chainCode: master.chainCode,
            },
            stepsOf(chain.path),
          );
          expect(serializeExtendedKey(derived.extended)).toBe(chain.xprv);
          expect(derived.material).toMatchObject({ algorithm: 'EC', curveOid: SECP256K1, keySize: 256 });
          // node:crypto's public key (from the PKCS#8) is the derived point
          const jwk = createPublicKey({
            key: derived.material.publicKey!,
            format: 'der',
            type: 'spki',
          }).export({
            format: 'jwk',
          });
          expect(Buffer.from(jwk.x!, 'base64url').equals(derived.extended.publicKey.subarray(1))).toBe(true);
        });
      }
    });
  }
});

describe('CKDpub', () => {
  it('equals the public key of CKDpriv for non-hardened children (vector 2, m/0 and m/0/…/1)', () => {
    const master = masterKey('secp256k1', Buffer.from(BIP32_VECTORS[1]!.seed, 'hex'));
    const child = deriveChildPublic(neuter(master), 0);
    expect(serializeExtendedKey(child)).toBe(BIP32_VECTORS[1]!.chains[1]!.xpub);
    const hardened = deriveChildPrivate(deriveChildPrivate(master, 0), 0xffffffff);
    expect(serializeExtendedKey(deriveChildPublic(neuter(hardened), 1))).toBe(
      BIP32_VECTORS[1]!.chains[3]!.xpub,
    );
  });

  it('refuses hardened children', () => {
    const master = masterKey('nist256p1', Buffer.alloc(32, 1));
    expect(() => deriveChildPublic(neuter(master), 0x80000000)).toThrow(/hardened child/);
  });

  it('agrees with CKDpriv on P-256 too', () => {
    const master = masterKey('nist256p1', Buffer.alloc(32, 7));
    for (const index of [0, 1, 17, 0x7fffffff]) {
      expect(deriveChildPublic(neuter(master), index).publicKey).toEqual(
        deriveChildPrivate(master, index).publicKey,
      );
    }
  });
});

describe('cross-check with @scure/bip32 (secp256k1)', () => {
  it('matches on random seeds and paths', () => {
    for (let round = 0; round < 25; round++) {
      const seed = randomBytes(16 + (round % 49));
      const steps = Array.from({ length: 1 + (round % 6) }, () => {
        const index = randomBytes(4).readUInt32BE(0) & 0x7fffffff;
        return { index, hardened: randomBytes(1)[0]! % 2 === 0 };
      });
      const path = `m/${steps.map((s) => `${s.index}${s.hardened ? "'" : ''}`).join('/')}`;
      const reference = HDKey.fromMasterSeed(seed).derive(path);
      const master = masterFromSeed(SECP256K1, seed);
      const ours = deriveChild(
        {
          algorithm: 'EC',
          curveOid: SECP256K1,
          privateKey: master.extended.privateKey,
          chainCode: master.chainCode,
        },
        steps,
      );
      expect(serializeExtendedKey(ours.extended)).toBe(reference.privateExtendedKey);
      expect(serializeExtendedKey(ours.extended, 'public')).toBe(reference.publicExtendedKey);
    }
  });
});

describe('derived EC keys are usable by node:crypto', () => {
  for (const curveOid of [SECP256K1, '1.2.840.10045.3.1.7']) {
    it(`signs with the child private key and verifies with its public key (${curveOid})`, () => {
      const master = masterFromSeed(curveOid, randomBytes(64));
      const child = deriveChild(
        { algorithm: 'EC', curveOid, privateKey: master.extended.privateKey, chainCode: master.chainCode },
        stepsOf("m/44'/0'/0'/0/5"),
      );
      const payload = Buffer.from('SignPayloadDemo');
      const signature = createSign('sha256')
        .update(payload)
        .sign({ key: child.material.secret!, format: 'der', type: 'pkcs8' });
      const ok = createVerify('sha256')
        .update(payload)
        .verify({ key: child.material.publicKey!, format: 'der', type: 'spki' }, signature);
      expect(ok).toBe(true);
      // and not with the parent's
      const wrong = createVerify('sha256')
        .update(payload)
        .verify({ key: master.material.publicKey!, format: 'der', type: 'spki' }, signature);
      expect(wrong).toBe(false);
    });
  }
});
