import { createPrivateKey, createPublicKey } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { truncatedAddress } from '../../../../src/crypto/addresses/address-formats.js';
import {
  btcAddress,
  ethAddress,
  keyAddress,
  stellarAccountId,
  toChecksumAddress,
  xlmAddress,
  xrpAddress,
} from '../../../../src/crypto/addresses/blockchain-addresses.js';
import {
  base58CheckDecode,
  base58CheckEncode,
  RIPPLE_ALPHABET,
} from '../../../../src/crypto/derivation/base58.js';
import { serializeExtendedKey } from '../../../../src/crypto/derivation/bip32.js';
import { masterFromSeed } from '../../../../src/crypto/derivation/key-derivation.js';
import { generateKey } from '../../../../src/crypto/mechanisms/key-mechanisms.js';

/** SPKI of a secp256k1 key from its raw private scalar (OpenSSL computes the point). */
function secp256k1SpkiOfPrivate(privateHex: string): Buffer {
  const sec1 = Buffer.concat([
    Buffer.from('302e0201010420', 'hex'),
    Buffer.from(privateHex, 'hex'),
    Buffer.from('a00706052b8104000a', 'hex'),
  ]);
  return createPublicKey(createPrivateKey({ key: sec1, format: 'der', type: 'sec1' })).export({
    type: 'spki',
    format: 'der',
  });
}

/** SPKI of a compressed secp256k1 point. */
function secp256k1SpkiOfPoint(compressedHex: string): Buffer {
  const point = secp256k1.Point.fromBytes(Buffer.from(compressedHex, 'hex'));
  const raw = Buffer.from(point.toBytes(false));
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'secp256k1',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  }).export({ type: 'spki', format: 'der' });
}

const ed25519Spki = (publicHex: string): Buffer =>
  Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicHex, 'hex')]);

describe('BTC (P2PKH, compressed key)', () => {
  it('private key 1 gives 1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH', () => {
    expect(btcAddress(secp256k1SpkiOfPrivate(`${'00'.repeat(31)}01`))).toBe(
      '1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH',
    );
  });

  it('BIP32 test vector 1 master key: HASH160 starts with its published fingerprint 3442193e', () => {
    const master = masterFromSeed('1.3.132.0.10', Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'));
    const address = btcAddress(master.material.publicKey!);
    const payload = base58CheckDecode(address);
    expect(payload[0]).toBe(0);
    expect(payload.subarray(1, 5).toString('hex')).toBe('3442193e');
    expect(address).toBe('15mKKb2eos1hWa6tisdPwwDC1a5J1y9nma');
    // consistent with the truncated address base of the key
    expect(payload.subarray(1).toString('hex').toUpperCase()).toBe(
      truncatedAddress('BTC', master.material.publicKey!),
    );
    expect(serializeExtendedKey(master.extended, 'public')).toMatch(
      /^xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rd/,
    );
  });
});

describe('ETH (EIP-55)', () => {
  it.each([
    '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
    '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
    '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    '0x52908400098527886E0F7030069857D2E4169EE7',
    '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
    '0xde709f2102306220921060314715629080e2fb77',
    '0x27b1fdb04752bbc536007a920d24acb045561c26',
  ])('checksums %s as the EIP does', (address) => {
    expect(toChecksumAddress(address.toLowerCase())).toBe(address);
  });

  it('the web3 example private key gives its published address', () => {
    const spki = secp256k1SpkiOfPrivate('4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318');
    expect(ethAddress(spki)).toBe('0x2c7536E3605D9C16a7a3D7b1898e529396a65c23');
    expect(ethAddress(spki).slice(2).toUpperCase()).toBe(truncatedAddress('ETH', spki));
  });
});

describe('XRP', () => {
  it('encodes ACCOUNT_ZERO with the XRP Ledger alphabet', () => {
    expect(base58CheckEncode(Buffer.alloc(21), RIPPLE_ALPHABET)).toBe('rrrrrrrrrrrrrrrrrrrrrhoLvTp');
  });

  it('secp256k1 key of the xrpl.js ripple-keypairs fixtures', () => {
    const spki = secp256k1SpkiOfPoint('030D58EB48B4420B1F7B9DF55087E0E29FEF0E8468F9A6825B01CA2C361042D435');
    expect(xrpAddress(spki)).toBe('rU6K7V3Po4snVhBBaU29sesqs2qTQJWDw1');
  });

  it('Ed25519 key of the xrpl.js ripple-keypairs fixtures (0xED prefix)', () => {
    const spki = ed25519Spki('01FA53FA5A7E77798F882ECE20B1ABC00BB358A9E55A202D0D0676BD0CE37A63');
    expect(xrpAddress(spki)).toBe('rLUEXYuLiQptky37CqLcm9USQpPiz5rkpD');
    expect(keyAddress('XRP', spki)).toBe('rLUEXYuLiQptky37CqLcm9USQpPiz5rkpD');
  });
});

describe('XLM (StrKey)', () => {
  it('encodes published account IDs', () => {
    expect(stellarAccountId(Buffer.alloc(32))).toBe(
      'GAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWHF',
    );
    const publicKey = '3330317ec241d79943bb9aa7c8ea5f8b89f9c6ea351fe03f8ec3d1127137d484';
    expect(xlmAddress(ed25519Spki(publicKey))).toBe(
      'GAZTAML6YJA5PGKDXONKPSHKL6FYT6OG5I2R7YB7R3B5CETRG7KIJONK',
    );
  });
});

describe('keyAddress', () => {
  it('refuses a format that does not fit the key (613) and IOTA (not implemented)', async () => {
    const p256 = await generateKey({ algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7' });
    expect(() => keyAddress('ETH', p256.publicKey!)).toThrow(
      expect.objectContaining({ errorCode: 613 }) as unknown as Error,
    );
    const ed = await generateKey({ algorithm: 'ED' });
    expect(() => keyAddress('BTC', ed.publicKey!)).toThrow(
      /BTC address cannot be made from an ED key on Ed25519/,
    );
    expect(() => keyAddress('IOTA', ed.publicKey!)).toThrow(
      expect.objectContaining({ errorCode: 101 }) as unknown as Error,
    );
    const k1 = await generateKey({ algorithm: 'EC', curveOid: '1.3.132.0.10' });
    expect(keyAddress('BTC', k1.publicKey!)).toMatch(/^1[1-9A-HJ-NP-Za-km-z]{25,33}$/);
    expect(keyAddress('ETH', k1.publicKey!)).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(keyAddress('XLM', ed.publicKey!)).toMatch(/^G[A-Z2-7]{55}$/);
  });
});
