import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addressFormatFits, truncatedAddress } from '../../../../src/crypto/addresses/address-formats.js';

/** A secp256k1 SPKI from a raw private scalar; OpenSSL (node:crypto) computes the public point. */
function secp256k1Spki(privateHex: string): Buffer {
  const d = Buffer.from(privateHex, 'hex');
  const sec1 = Buffer.concat([
    Buffer.from('302e0201010420', 'hex'),
    d,
    Buffer.from('a00706052b8104000a', 'hex'),
  ]);
  const privateKey = createPrivateKey({ key: sec1, format: 'der', type: 'sec1' });
  return createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
}

describe('truncated addresses', () => {
  it('ETH: the published web3 example key gives its published address', () => {
    const spki = secp256k1Spki('4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318');
    expect(truncatedAddress('ETH', spki)).toBe('2C7536E3605D9C16A7A3D7B1898E529396A65C23');
  });

  it('BTC: private key 1 gives the well-known HASH160 of the generator point', () => {
    const spki = secp256k1Spki(`${'00'.repeat(31)}01`);
    expect(truncatedAddress('BTC', spki)).toBe('751E76E8199196D454941C45D1B3A323F1433BD6');
  });

  it('knows which keys each format fits', () => {
    expect(addressFormatFits('ETH', 'EC', '1.3.132.0.10')).toBe(true);
    expect(addressFormatFits('ETH', 'EC', '1.2.840.10045.3.1.7')).toBe(false);
    expect(addressFormatFits('XLM', 'ED', '1.3.101.112')).toBe(true);
    expect(addressFormatFits('BTC', 'ED', '1.3.101.112')).toBe(false);
  });
});
