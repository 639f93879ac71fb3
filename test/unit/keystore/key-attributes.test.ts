import { describe, expect, it } from 'vitest';
import { type AlgorithmCapabilities, resolveKeyAttributes } from '../../../src/keystore/key-attributes.js';

const rsa: AlgorithmCapabilities = {
  algorithm: 'RSA',
  symmetric: false,
  canSign: true,
  canDecrypt: true,
  canUnwrap: true,
  canDerive: false,
};
const aes: AlgorithmCapabilities = {
  algorithm: 'AES',
  symmetric: true,
  canSign: false,
  canDecrypt: true,
  canUnwrap: true,
  canDerive: false,
};
const ec: AlgorithmCapabilities = {
  algorithm: 'EC',
  symmetric: false,
  canSign: true,
  canDecrypt: true,
  canUnwrap: false,
  canDerive: true,
};
const base = { hasPolicy: false, publicOnly: false };

describe('resolveKeyAttributes (§3.3)', () => {
  it('applies the documented defaults', () => {
    expect(
      resolveKeyAttributes({ decrypt: false, sign: true, unwrap: false }, { ...base, capabilities: rsa }),
    ).toEqual({
      encrypt: true,
      decrypt: false,
      verify: true,
      sign: true,
      wrap: true,
      unwrap: false,
      derive: false,
      bip32: false,
      slip10: false,
      extractable: false,
      neverExtractable: true,
      sensitive: true,
      alwaysSensitive: true,
      modifiable: true,
      destroyable: false,
      copyable: false,
    });
  });

  it('lets symmetric keys encrypt, verify and wrap along with decrypt, sign and unwrap', () => {
    const attributes = resolveKeyAttributes(
      { decrypt: true, sign: false, unwrap: true },
      { ...base, capabilities: aes },
    );
    expect(attributes).toMatchObject({ encrypt: true, wrap: true, verify: false });
  });

  it.each([
    ['no operation', { decrypt: false, sign: false, unwrap: false }, rsa, false, /at least one/],
    [
      'bip32 on RSA',
      { decrypt: false, sign: true, unwrap: false, derive: true, bip32: true },
      rsa,
      false,
      /bip32/,
    ],
    [
      'slip10 without derive',
      { decrypt: false, sign: true, unwrap: false, slip10: true },
      ec,
      false,
      /derive/,
    ],
    [
      'extractable SKA key',
      { decrypt: false, sign: true, unwrap: false, extractable: true },
      ec,
      true,
      /extractable/,
    ],
  ])('refuses %s with 606', (_name, input, capabilities, hasPolicy, message) => {
    expect(() => resolveKeyAttributes(input, { capabilities, hasPolicy, publicOnly: false })).toThrow(
      expect.objectContaining({ errorCode: 606, message: expect.stringMatching(message) }),
    );
  });

  it('stores flags the algorithm cannot use, as reference sample 17 sends them (the operation is refused later)', () => {
    const attributes = resolveKeyAttributes(
      { encrypt: true, decrypt: true, verify: true, sign: true, wrap: true, unwrap: true },
      { ...base, capabilities: ec },
    );
    expect(attributes).toMatchObject({ sign: true, decrypt: true, unwrap: true });
    expect(
      resolveKeyAttributes({ decrypt: false, sign: true, unwrap: false }, { ...base, capabilities: aes })
        .sign,
    ).toBe(true);
  });

  it('requires decrypt, sign and unwrap to be given (600)', () => {
    expect(() => resolveKeyAttributes({ sign: true }, { ...base, capabilities: rsa })).toThrow(
      expect.objectContaining({ errorCode: 600 }),
    );
  });

  it('makes verify-only keys unable to sign or decrypt whatever is asked', () => {
    const attributes = resolveKeyAttributes(
      { sign: true, decrypt: true },
      { ...base, capabilities: rsa, publicOnly: true },
    );
    expect(attributes).toMatchObject({ sign: false, decrypt: false, verify: true, sensitive: false });
  });
});
