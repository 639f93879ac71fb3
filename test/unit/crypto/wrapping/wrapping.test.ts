import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SymmetricAlgorithm } from '../../../../src/crypto/algorithms.js';
import {
  generateKey,
  importKey,
  type KeyMaterial,
  loadPrivate,
  type ReadyKey,
} from '../../../../src/crypto/mechanisms/key-mechanisms.js';
import {
  aesKeyUnwrap,
  aesKeyWrap,
  publicKeyInput,
  unwrapKey,
  unwrapKeyOffThread,
  WRAP_METHODS,
  wrapKey,
} from '../../../../src/crypto/wrapping/key-wrapping.js';
import { opensslEnc, opensslPkeyutl } from '../../../helpers/openssl.js';
import { tsbErrorOf, tsbErrorOfAsync } from '../helpers.js';

const secret = (algorithm: SymmetricAlgorithm, bytes: Buffer): KeyMaterial =>
  importKey({ algorithm, secretKey: bytes });
const ready = (material: KeyMaterial): ReadyKey => loadPrivate(material);
const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const kekOf = (key: ReadyKey) => (key as Extract<ReadyKey, { kind: 'secret' }>).key;

const opensslWrap = (
  name: string,
  kek: Buffer,
  iv: string,
  input: Buffer,
  decrypt: boolean,
): Promise<Buffer> => opensslEnc(name, kek, iv, input, { decrypt });

describe('AES key wrap primitives', () => {
  it('RFC 3394 §4.1-4.6 test vectors', () => {
    const data = hex('00112233445566778899AABBCCDDEEFF0001020304050607 08090A0B0C0D0E0F');
    const kek = (bits: number) =>
      ready(
        secret(
          'AES',
          hex('000102030405060708090A0B0C0D0E0F1011121314151617 18191A1B1C1D1E1F').subarray(0, bits / 8),
        ),
      );
    const vectors: [number, number, string][] = [
      [128, 16, '1FA68B0A8112B447 AEF34BD8FB5A7B82 9D3E862371D2CFE5'],
      [192, 16, '96778B25AE6CA435 F92B5B97C050AED2 468AB8A17AD84E5D'],
      [256, 16, '64E8C3F9CE0F5BA2 63E9777905818A2A 93C8191E7D6E8AE7'],
      [192, 24, '031D33264E15D332 68F24EC260743EDC E1C6C7DDEE725A93 6BA814915C6762D2'],
      [256, 24, 'A8F9BC1612C68B3F F6E6F4FBE30E71E4 769C8B80A32CB895 8CD5D17D6B254DA1'],
      [256, 32, '28C9F404C4B810F4 CBCCB35CFB87F826 3F5786E2D80ED326 CBC7F0E71A99F43B FB988B9B7A02DD21'],
    ];
    for (const [bits, length, expected] of vectors) {
      const key = kekOf(kek(bits));
      const wrapped = aesKeyWrap(key, false, data.subarray(0, length));
      expect(wrapped.toString('hex').toUpperCase(), `${bits}/${length}`).toBe(expected.replace(/\s+/g, ''));
      expect(aesKeyUnwrap(key, false, wrapped)).toEqual(data.subarray(0, length));
    }
  });

  it('RFC 5649 §6 test vectors', () => {
    const key = kekOf(ready(secret('AES', hex('5840df6e29b02af1 ab493b705bf16ea1 ae8338f4dcc176a8'))));
    const vectors: [string, string][] = [
      [
        'c37b7e6492584340 bed1220780894115 5068f738',
        '138bdeaa9b8fa7fc 61f97742e72248ee 5ae6ae5360d1ae6a 5f54f373fa543b6a',
      ],
      ['466f7250617369', 'afbeb0f07dfbf541 9200f2ccb50bb24f'],
    ];
    for (const [input, expected] of vectors) {
      const wrapped = aesKeyWrap(key, true, hex(input));
      expect(wrapped.toString('hex')).toBe(expected.replace(/\s+/g, ''));
      expect(aesKeyUnwrap(key, true, wrapped)).toEqual(hex(input));
    }
  });

  it('a corrupted wrapped key is DECRYPT_FAILED (410)', () => {
    const key = kekOf(ready(secret('AES', randomBytes(32))));
    for (const pad of [false, true]) {
      const wrapped = aesKeyWrap(key, pad, randomBytes(32));
      wrapped[5]! ^= 1;
      expect(tsbErrorOf(() => aesKeyUnwrap(key, pad, wrapped)).errorCode).toBe(410);
    }
  });
});

describe('wrapKey / unwrapKey', () => {
  let kekMaterial: KeyMaterial;
  let kek: ReadyKey;
  let ecKey: KeyMaterial;
  let rsa: KeyMaterial;
  beforeAll(async () => {
    kekMaterial = secret('AES', randomBytes(32));
    kek = ready(kekMaterial);
    ecKey = await generateKey({ algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7' });
    rsa = await generateKey({ algorithm: 'RSA', keySize: 2048 });
  });

  it('lists every method of the reference plus ML-KEM', () => {
    expect(WRAP_METHODS).toHaveLength(17);
  });

  it('AES_WRAP of an AES key crosses with openssl enc -id-aes256-wrap both ways', async () => {
    const target = secret('AES', randomBytes(32));
    const wrapped = wrapKey(kek, 'AES_WRAP', target);
    expect(wrapped).toHaveLength(40);
    expect(
      await opensslWrap('id-aes256-wrap', kekMaterial.secret!, 'A6A6A6A6A6A6A6A6', wrapped, true),
    ).toEqual(target.secret);
    const theirs = await opensslWrap(
      'id-aes256-wrap',
      kekMaterial.secret!,
      'A6A6A6A6A6A6A6A6',
      target.secret!,
      false,
    );
    expect(theirs).toEqual(wrapped); // deterministic
    const unwrapped = unwrapKey(kek, 'AES_WRAP', theirs, {});
    expect(unwrapped.algorithm).toBe('AES');
    expect(unwrapped.secret).toEqual(target.secret);
  });

  it('AES_WRAP_PAD of an HMAC key crosses with openssl enc -id-aes256-wrap-pad', async () => {
    const target = secret('HMACSHA256', randomBytes(21));
    const wrapped = wrapKey(kek, 'AES_WRAP_PAD', target);
    expect(await opensslWrap('id-aes256-wrap-pad', kekMaterial.secret!, 'A65959A6', wrapped, true)).toEqual(
      target.secret,
    );
    expect(unwrapKey(kek, 'AES_WRAP_PAD', wrapped, { algorithm: 'HMACSHA256' }).secret).toEqual(
      target.secret,
    );
    // RFC 3394 cannot take 21 bytes
    expect(tsbErrorOf(() => wrapKey(kek, 'AES_WRAP', target)).errorCode).toBe(612);
  });

  it('AES_WRAP_PAD_EC and AES_WRAP_EC round-trip an EC key (same public key)', async () => {
    for (const method of ['AES_WRAP_PAD_EC', 'AES_WRAP_EC']) {
      const wrapped = wrapKey(kek, method, ecKey);
      expect(wrapped.length % 8).toBe(0);
      const unwrapped = unwrapKey(kek, method, wrapped, {});
      expect(unwrapped.algorithm).toBe('EC');
      expect(unwrapped.curveOid).toBe('1.2.840.10045.3.1.7');
      expect(unwrapped.publicKey).toEqual(ecKey.publicKey);
      expect(unwrapped.secret).toEqual(ecKey.secret);
    }
    // openssl unwraps the RFC 5649 form to the PKCS#8 DER
    const wrapped = wrapKey(kek, 'AES_WRAP_PAD_EC', ecKey);
    expect(await opensslWrap('id-aes256-wrap-pad', kekMaterial.secret!, 'A65959A6', wrapped, true)).toEqual(
      ecKey.secret,
    );
  });

  it('AES_WRAP_PAD (no suffix) infers the algorithm of a wrapped PKCS#8', () => {
    const wrapped = wrapKey(kek, 'AES_WRAP_PAD', rsa);
    const unwrapped = unwrapKey(kek, 'AES_WRAP_PAD', wrapped, {});
    expect(unwrapped.algorithm).toBe('RSA');
    expect(unwrapped.publicKey).toEqual(rsa.publicKey);
  });

  it('a family method refuses other key types (607)', () => {
    expect(tsbErrorOf(() => wrapKey(kek, 'AES_WRAP_PAD_RSA', ecKey)).errorCode).toBe(607);
    expect(tsbErrorOf(() => wrapKey(kek, 'AES_WRAP_EC', secret('AES', randomBytes(16)))).errorCode).toBe(607);
    const wrapped = wrapKey(kek, 'AES_WRAP_PAD_EC', ecKey);
    expect(tsbErrorOf(() => unwrapKey(kek, 'AES_WRAP_PAD_EC', wrapped, { algorithm: 'RSA' })).errorCode).toBe(
      607,
    );
    // the wrapped bytes are an EC key: unwrapping as RSA fails on the key type
    expect(tsbErrorOf(() => unwrapKey(kek, 'AES_WRAP_PAD_RSA', wrapped, {})).errorCode).toBe(613);
  });

  it('a wrong wrapping key type is 607; an unknown method is 629', () => {
    const rsaKey = ready(rsa);
    const target = secret('AES', randomBytes(16));
    expect(tsbErrorOf(() => wrapKey(rsaKey, 'AES_WRAP', target)).errorCode).toBe(607);
    expect(tsbErrorOf(() => wrapKey(kek, 'RSA_WRAP_OAEP', target)).errorCode).toBe(607);
    expect(
      tsbErrorOf(() => wrapKey(ready(secret('Camellia', randomBytes(16))), 'AES_WRAP', target)).errorCode,
    ).toBe(607);
    expect(tsbErrorOf(() => wrapKey(kek, 'DES_WRAP', target)).errorCode).toBe(629);
  });

  it('a tampered wrapped key is DECRYPT_FAILED (410)', () => {
    const wrapped = wrapKey(kek, 'AES_WRAP_PAD_EC', ecKey);
    wrapped[wrapped.length - 1]! ^= 0x80;
    expect(tsbErrorOf(() => unwrapKey(kek, 'AES_WRAP_PAD_EC', wrapped, {})).errorCode).toBe(410);
    const other = ready(secret('AES', randomBytes(32)));
    expect(
      tsbErrorOf(() =>
        unwrapKey(other, 'AES_WRAP', wrapKey(kek, 'AES_WRAP', secret('AES', randomBytes(32))), {}),
      ).errorCode,
    ).toBe(410);
  });

  describe('RSA', () => {
    const pkeyutl = (mode: 'encrypt' | 'decrypt', opts: string[], input: Buffer): Promise<Buffer> =>
      opensslPkeyutl(mode, mode === 'encrypt' ? rsa.publicKey! : rsa.secret!, opts, input);
    const OAEP = ['rsa_padding_mode:oaep', 'rsa_oaep_md:sha256', 'rsa_mgf1_md:sha256'];
    const PKCS1 = ['rsa_padding_mode:pkcs1'];

    it.each([
      ['RSA_WRAP_OAEP', OAEP],
      ['RSA_WRAP_PAD', PKCS1],
    ])('%s crosses with openssl pkeyutl both ways', async (method, opts) => {
      const target = secret('AES', randomBytes(32));
      const publicOnly = publicKeyInput({ ...rsa, secret: null });
      const wrapped = wrapKey(publicOnly, method, target);
      expect(await pkeyutl('decrypt', opts, wrapped)).toEqual(target.secret);
      const theirs = await pkeyutl('encrypt', opts, target.secret!);
      const unwrapped = unwrapKey(ready(rsa), method, theirs, { algorithm: 'AES' });
      expect(unwrapped.secret).toEqual(target.secret);
      // as the HSM unwraps: the private operation in the signature pool's worker
      const pooled = await unwrapKeyOffThread(ready(rsa), method, theirs, { algorithm: 'AES' });
      expect(pooled.secret).toEqual(target.secret);
      expect(pooled.algorithm).toBe('AES');
      // the loaded key pair wraps too
      expect(unwrapKey(ready(rsa), method, wrapKey(ready(rsa), method, target), {}).secret).toEqual(
        target.secret,
      );
    });

    it('RSA wraps secret keys only (607); bad padding is 410', async () => {
      expect(tsbErrorOf(() => wrapKey(ready(rsa), 'RSA_WRAP_OAEP', ecKey)).errorCode).toBe(607);
      const wrapped = wrapKey(ready(rsa), 'RSA_WRAP_PAD', secret('AES', randomBytes(16)));
      const inline = tsbErrorOf(() => unwrapKey(ready(rsa), 'RSA_WRAP_OAEP', wrapped, {}));
      expect(inline.errorCode).toBe(410);
      const pooled = await tsbErrorOfAsync(() =>
        unwrapKeyOffThread(ready(rsa), 'RSA_WRAP_OAEP', wrapped, {}),
      );
      expect([pooled.errorCode, pooled.message]).toEqual([410, inline.message]);
      const notSecret = await tsbErrorOfAsync(() =>
        unwrapKeyOffThread(ready(rsa), 'RSA_WRAP_OAEP', wrapped, {
          algorithm: 'EC',
        }),
      );
      expect(notSecret.errorCode).toBe(607);
      expect(
        tsbErrorOf(() =>
          wrapKey(
            {
              kind: 'rsa-public',
              key: createPublicKey({ key: ecKey.publicKey!, format: 'der', type: 'spki' }),
            },
            'RSA_WRAP_PAD',
            secret('AES', randomBytes(16)),
          ),
        ).errorCode,
      ).toBe(607);
    });

    it('RSA_WRAP_PAD unwrap does not tell a bad PKCS#1 v1.5 padding from a wrapped key of the wrong size', () => {
      const publicKey = createPublicKey({ key: rsa.publicKey!, format: 'der', type: 'spki' });
      const raw = (block: Buffer) =>
        publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, block);
      const wellPadded = (secretLength: number) =>
        raw(
          Buffer.concat([
            Buffer.from([0x00, 0x02]),
            Buffer.alloc(256 - 3 - secretLength, 0x5a),
            Buffer.from([0x00]),
            randomBytes(secretLength),
          ]),
        );
      // a well-padded 17-byte secret is no AES key
      const wrongSize = tsbErrorOf(() =>
        unwrapKey(ready(rsa), 'RSA_WRAP_PAD', wellPadded(17), { algorithm: 'AES' }),
      );
      expect(wrongSize.errorCode).not.toBe(410);
      // badly padded blocks: each unwraps a secret derived from it, which is mostly no AES key either; the same answer
      const answers = Array.from({ length: 8 }, () => {
        const block = Buffer.concat([Buffer.from([0x00, 0x01]), randomBytes(254)]);
        const unwrap = () => unwrapKey(ready(rsa), 'RSA_WRAP_PAD', raw(block), { algorithm: 'AES' });
        try {
          unwrap();
          return 'unwrapped';
        } catch {
          return tsbErrorOf(unwrap).errorCode;
        }
      });
      expect(answers.filter((answer) => answer !== 'unwrapped').length).toBeGreaterThan(0);
      for (const answer of answers) expect([wrongSize.errorCode, 'unwrapped']).toContain(answer);
      expect(unwrapKey(ready(rsa), 'RSA_WRAP_PAD', wellPadded(32), { algorithm: 'AES' }).secret).toHaveLength(
        32,
      );
    });
  });

  describe('ML-KEM', () => {
    it('round-trips secret and private keys; output = KEM ciphertext ‖ RFC 5649', async () => {
      const kem = await generateKey({ algorithm: 'ML-KEM-768' });
      const target = secret('ChaCha20', randomBytes(32));
      const publicOnly = publicKeyInput({ ...kem, secret: null });
      const wrapped = wrapKey(publicOnly, 'ML-KEM-768', target);
      expect(wrapped).toHaveLength(1088 + 40);
      expect(unwrapKey(ready(kem), 'ML-KEM-768', wrapped, { algorithm: 'ChaCha20' }).secret).toEqual(
        target.secret,
      );

      const wrappedEc = wrapKey(ready(kem), 'ML-KEM-768', ecKey);
      const unwrapped = unwrapKey(ready(kem), 'ML-KEM-768', wrappedEc, {});
      expect(unwrapped.algorithm).toBe('EC');
      expect(unwrapped.publicKey).toEqual(ecKey.publicKey);

      // another ML-KEM key: implicit rejection gives another secret, so the KEK check fails
      const other = await generateKey({ algorithm: 'ML-KEM-768' });
      expect(tsbErrorOf(() => unwrapKey(ready(other), 'ML-KEM-768', wrapped, {})).errorCode).toBe(410);
      // a parameter set that does not match the key
      expect(tsbErrorOf(() => wrapKey(ready(kem), 'ML-KEM-512', target)).errorCode).toBe(607);
      expect(tsbErrorOf(() => wrapKey(kek, 'ML-KEM-768', target)).errorCode).toBe(607);
    });
  });
});
