import { createPrivateKey, randomBytes, sign, verify } from 'node:crypto';
import { mnemonicToSeedSync } from '@scure/bip39';
import { describe, expect, it } from 'vitest';
import { stellarAccountId } from '../../../../src/crypto/addresses/blockchain-addresses.js';
import {
  derivationTypeOf,
  deriveChild,
  deriveFromMaterial,
  generateDerivableKey,
  masterFromSeed,
  rawPrivateKeyOf,
  splitKeyName,
} from '../../../../src/crypto/derivation/key-derivation.js';
import { importKey } from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import { TsbError } from '../../../../src/errors.js';
import { stepsOf } from './helpers.js';
import { SLIP10_VECTORS } from './vectors.js';

const CURVE_OID = { secp256k1: '1.3.132.0.10', nist256p1: '1.2.840.10045.3.1.7', ed25519: '1.3.101.112' };
const ALGORITHM = { secp256k1: 'EC', nist256p1: 'EC', ed25519: 'ED' } as const;

describe('SLIP-10 test vectors', () => {
  for (const vector of SLIP10_VECTORS) {
    describe(vector.name, () => {
      const curveOid = CURVE_OID[vector.curve];
      const master = masterFromSeed(curveOid, Buffer.from(vector.seed, 'hex'));
      for (const chain of vector.chains) {
        it(`chain ${chain.path}`, () => {
          const derived = deriveChild(
            {
              algorithm: ALGORITHM[vector.curve],
              curveOid,
              privateKey: master.extended.privateKey,
              chainCode: master.chainCode,
            },
            stepsOf(chain.path),
          );
          expect(derived.chainCode.toString('hex')).toBe(chain.chainCode);
          expect(derived.extended.privateKey.toString('hex')).toBe(chain.private);
          expect(derived.extended.publicKey.toString('hex')).toBe(chain.public);
          expect(derived.extended.parentFingerprint.toString(16).padStart(8, '0')).toBe(chain.fingerprint);
          expect(derived.derivationValue).toBe(chain.chainCode.toUpperCase());
          // the stored form round-trips: PKCS#8 → raw key → same derivation
          expect(rawPrivateKeyOf(derived.material).toString('hex')).toBe(chain.private);
          const again = deriveFromMaterial(master.material, master.chainCode, stepsOf(chain.path));
          expect(again.material).toEqual(derived.material);
        });
      }
    });
  }
});

describe('Ed25519', () => {
  const master = masterFromSeed(CURVE_OID.ed25519, Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'));
  const parent = {
    algorithm: 'ED' as const,
    curveOid: CURVE_OID.ed25519,
    privateKey: master.extended.privateKey,
    chainCode: master.chainCode,
  };

  it('refuses an unhardened step with 634 (HTTP 400)', () => {
    let error: unknown;
    try {
      deriveChild(parent, stepsOf("m/44'/0'/0'/0"));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TsbError);
    expect((error as TsbError).errorCode).toBe(634);
    expect((error as TsbError).statusCode).toBe(400);
    expect((error as TsbError).message).toMatch(/hardened/);
  });

  it('the derived key signs with node:crypto and verifies with its SPKI; SPKI holds the SLIP-10 public key', () => {
    const child = deriveChild(parent, stepsOf("m/44'/148'/0'"));
    const signature = sign(null, Buffer.from('payload'), {
      key: child.material.secret!,
      format: 'der',
      type: 'pkcs8',
    });
    expect(
      verify(
        null,
        Buffer.from('payload'),
        { key: child.material.publicKey!, format: 'der', type: 'spki' },
        signature,
      ),
    ).toBe(true);
    expect(child.material.publicKey!.subarray(-32)).toEqual(child.extended.publicKey.subarray(1));
    expect(child.material).toMatchObject({ algorithm: 'ED', algorithmOid: CURVE_OID.ed25519, keySize: 255 });
  });

  it("SEP-0005 test 1 (Stellar, BIP39 mnemonic → SLIP-10 m/44'/148'/i')", () => {
    const seed = mnemonicToSeedSync(
      'illness spike retreat truth genius clock brain pass fit cave bargain toe',
    );
    const stellarMaster = masterFromSeed(CURVE_OID.ed25519, seed);
    const account = (path: string) =>
      deriveChild(
        { ...parent, privateKey: stellarMaster.extended.privateKey, chainCode: stellarMaster.chainCode },
        stepsOf(path),
      );
    expect(account("m/44'/148'").extended.privateKey.toString('hex')).toBe(
      'e0eec84fe165cd427cb7bc9b6cfdef0555aa1cb6f9043ff1fe986c3c8ddd22e3',
    );
    expect(stellarAccountId(account("m/44'/148'/0'").extended.publicKey.subarray(1))).toBe(
      'GDRXE2BQUC3AZNPVFSCEZ76NJ3WWL25FYFK6RGZGIEKWE4SOOHSUJUJ6',
    );
    expect(stellarAccountId(account("m/44'/148'/1'").extended.publicKey.subarray(1))).toBe(
      'GBAW5XGWORWVFE2XTJYDTLDHXTY2Q2MO73HYCGB3XMFMQ562Q2W2GJQX',
    );
  });
});

describe('derivation API', () => {
  it('generates derivable keys for the three curves, and refuses others with 634', () => {
    for (const [name, oid] of Object.entries(CURVE_OID)) {
      const key = generateDerivableKey(ALGORITHM[name as keyof typeof ALGORITHM], oid);
      expect(key.chainCode).toHaveLength(32);
      expect(key.extended.depth).toBe(0);
      expect(key.material.curveOid).toBe(oid);
    }
    for (const [algorithm, oid] of [
      ['EC', '1.3.132.0.34'],
      ['ED', '1.3.101.113'],
      ['EC', CURVE_OID.ed25519],
      ['ED', CURVE_OID.secp256k1],
      ['RSA', null],
    ] as const) {
      expect(() => generateDerivableKey(algorithm, oid)).toThrow(
        expect.objectContaining({ errorCode: 634 }) as unknown as Error,
      );
    }
  });

  it('derives from imported key material (PKCS#8 of another origin)', () => {
    const generated = generateDerivableKey('EC', CURVE_OID.nist256p1);
    const pem = createPrivateKey({ key: generated.material.secret!, format: 'der', type: 'pkcs8' }).export({
      type: 'sec1',
      format: 'pem',
    });
    const imported = importKey({ algorithm: 'EC', privateKey: Buffer.from(pem) });
    const { path } = splitKeyName("k/44'/0'/0'/0/1");
    const a = deriveFromMaterial(imported, generated.chainCode, path!);
    const b = deriveFromMaterial(generated.material, generated.chainCode, path!);
    expect(a.material).toEqual(b.material);
  });

  it('an empty path gives the parent itself', () => {
    const key = generateDerivableKey('EC', CURVE_OID.secp256k1);
    const same = deriveFromMaterial(key.material, key.chainCode, []);
    expect(same.material).toEqual(key.material);
    expect(same.derivationValue).toBe(key.derivationValue);
  });

  it('refuses seeds outside 16..64 bytes and paths below depth 255', () => {
    expect(() => masterFromSeed(CURVE_OID.secp256k1, randomBytes(15))).toThrow(/16 to 64 bytes/);
    expect(() => masterFromSeed(CURVE_OID.secp256k1, randomBytes(65))).toThrow(/16 to 64 bytes/);
    const key = generateDerivableKey('ED', CURVE_OID.ed25519);
    expect(() =>
      deriveChild(
        {
          algorithm: 'ED',
          curveOid: CURVE_OID.ed25519,
          privateKey: key.extended.privateKey,
          chainCode: key.chainCode,
          depth: 250,
        },
        stepsOf("m/1'/2'/3'/4'/5'/6'"),
      ),
    ).toThrow(/depth 255/);
  });

  it('reports the derivation type of the TSB table', () => {
    expect(derivationTypeOf('EC', { bip32: true })).toBe('SLIP-10');
    expect(derivationTypeOf('EC', { slip10: true })).toBe('SLIP-10');
    expect(derivationTypeOf('EC', { bip32: true, slip10: true })).toBe('SLIP-10');
    expect(derivationTypeOf('ED', { slip10: true })).toBe('ADA/SLIP-10');
    expect(derivationTypeOf('ED', { bip32: true })).toBe('ADA');
    expect(derivationTypeOf('ED', { bip32: true, slip10: true })).toBe('ADA/SLIP-10');
    expect(derivationTypeOf('EC', {})).toBeNull();
  });
});
