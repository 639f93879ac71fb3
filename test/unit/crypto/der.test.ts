import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Asn1Error,
  bitString,
  children,
  decode,
  encodeLength,
  explicit,
  implicitPrimitive,
  integer,
  nullValue,
  objectIdentifier,
  octetString,
  readBitString,
  readInteger,
  readObjectIdentifier,
  readOctetString,
  sequence,
  TAG,
  tlv,
} from '../../../src/crypto/der.js';
import {
  algorithmIdentifier,
  certificateSpki,
  decodePkcs8,
  decodeSpki,
  encodePkcs8,
  encodeSpki,
} from '../../../src/crypto/spki-pkcs8.js';
import { hex, openssl, opensslAsn1Parse, withScratch } from './helpers.js';

const der = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

describe('DER encoding', () => {
  it.each([
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8180'],
    [255, '81ff'],
    [256, '820100'],
    [65535, '82ffff'],
    [65536, '83010000'],
  ])('encodes length %i as %s', (length, expected) => {
    expect(hex(encodeLength(length))).toBe(expected);
  });

  it.each([
    ['1.2.840.113549.1.1.1', '06092a864886f70d010101'],
    ['1.2.840.10045.2.1', '06072a8648ce3d0201'],
    ['1.2.840.10045.3.1.7', '06082a8648ce3d030107'],
    ['1.3.101.112', '06032b6570'],
    ['1.3.132.0.10', '06052b8104000a'],
    ['2.16.840.1.101.3.4.3.17', '0609608648016503040311'],
    ['2.16.840.1.101.3.4.4.3', '0609608648016503040403'],
    ['1.3.6.1.4.1.44668.5.3.1.1', '060c2b0601040182dc7c05030101'],
    ['2.999.3', '0603883703'],
  ])('encodes and decodes OID %s', (oid, encoded) => {
    expect(hex(objectIdentifier(oid))).toBe(encoded);
    expect(readObjectIdentifier(decode(der(encoded)))).toBe(oid);
  });

  it('refuses malformed OIDs', () => {
    for (const bad of ['', '1', '3.1', '1.40', '1.2.03', 'a.b']) {
      expect(() => objectIdentifier(bad)).toThrow(Asn1Error);
    }
    expect(() => readObjectIdentifier(decode(der('0602 2a80')))).toThrow(Asn1Error);
    expect(() => readObjectIdentifier(decode(der('0602 8001')))).toThrow(Asn1Error);
  });

  it.each([
    [0, '020100'],
    [1, '020101'],
    [127, '02017f'],
    [128, '02020080'],
    [256, '02020100'],
    [-1, '0201ff'],
    [-128, '020180'],
    [-129, '0202ff7f'],
    [65537, '0203010001'],
  ])('encodes and decodes INTEGER %i', (value, encoded) => {
    expect(hex(integer(value))).toBe(encoded);
    expect(readInteger(decode(der(encoded)))).toBe(BigInt(value));
  });

  it('encodes unsigned big-endian bytes as a positive INTEGER', () => {
    expect(hex(integer(der('0000ff')))).toBe('020200ff');
    expect(hex(integer(der('')))).toBe('020100');
    expect(() => readInteger(decode(der('0202007f')))).toThrow(/non-minimal/);
  });

  it('encodes strings, NULL, sequences and context tags', () => {
    expect(hex(octetString(der('0102')))).toBe('04020102');
    expect(hex(bitString(der('ff')))).toBe('030200ff');
    expect(hex(bitString(der('80'), 7))).toBe('03020780');
    expect(hex(nullValue())).toBe('0500');
    expect(hex(sequence(integer(1), nullValue()))).toBe('30050201010500');
    expect(hex(explicit(0, integer(2)))).toBe('a003020102');
    expect(hex(implicitPrimitive(0, der('aabb')))).toBe('8002aabb');
    expect(hex(tlv(TAG.SET, Buffer.alloc(0)))).toBe('3100');
    const long = tlv(TAG.OCTET_STRING, Buffer.alloc(300));
    expect(hex(long.subarray(0, 4))).toBe('0482012c');
  });
});

describe('DER decoding', () => {
  it('reads nested structures', () => {
    const node = decode(der('3009 0201 05 0404 deadbeef'));
    expect(node.tag).toBe(TAG.SEQUENCE);
    const [n, s] = children(node);
    expect(readInteger(n!)).toBe(5n);
    expect(hex(readOctetString(s!))).toBe('deadbeef');
    expect(hex(readBitString(decode(der('030300abcd'))))).toBe('abcd');
  });

  it.each([
    ['empty input', ''],
    ['indefinite length', '3080 0000'],
    ['non-minimal long length', '3081 05 0201050500'],
    ['length with leading zero', '308200 05 0201050500'],
    ['truncated element', '3005 0201'],
    ['trailing data', '0500 00'],
    ['missing length', '30'],
    ['multi-byte tag', '1f8101 00'],
  ])('refuses %s', (_name, encoded) => {
    expect(() => decode(der(encoded))).toThrow(Asn1Error);
  });

  it('refuses BIT STRINGs with unused bits where keys are expected', () => {
    expect(() => readBitString(decode(der('03020780')))).toThrow(/unused/);
  });

  it('checks tags', () => {
    expect(() => readOctetString(decode(der('0500')))).toThrow(/expected tag/);
    expect(() => children(decode(der('0400')))).toThrow(/not constructed/);
  });
});

describe('SubjectPublicKeyInfo and PKCS#8', () => {
  it('reads node-made Ed25519 keys and rebuilds them byte for byte', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const decoded = decodeSpki(spki);
    expect(decoded.algorithm).toEqual({ oid: '1.3.101.112', parameters: null });
    expect(decoded.publicKey).toHaveLength(32);
    expect(encodeSpki(algorithmIdentifier('1.3.101.112'), decoded.publicKey).equals(spki)).toBe(true);

    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
    const info = decodePkcs8(pkcs8);
    expect(info.version).toBe(0);
    expect(info.algorithm.oid).toBe('1.3.101.112');
    expect(info.publicKey).toBeNull();
    expect(encodePkcs8(algorithmIdentifier('1.3.101.112'), info.privateKey).equals(pkcs8)).toBe(true);
  });

  it('keeps AlgorithmIdentifier parameters (EC curve)', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const decoded = decodeSpki(publicKey.export({ type: 'spki', format: 'der' }));
    expect(decoded.algorithm.oid).toBe('1.2.840.10045.2.1');
    expect(readObjectIdentifier(decode(decoded.algorithm.parameters!))).toBe('1.3.132.0.10');
    expect(decoded.publicKey[0]).toBe(4);
  });

  it('writes a OneAsymmetricKey v2 with the public key that openssl asn1parse reads', async () => {
    const pkcs8 = encodePkcs8(algorithmIdentifier('2.16.840.1.101.3.4.3.17'), der('8020'), der('aabbcc'));
    const info = decodePkcs8(pkcs8);
    expect(info.version).toBe(1);
    expect(hex(info.publicKey!)).toBe('aabbcc');
    const parsed = await opensslAsn1Parse(pkcs8);
    expect(parsed).toContain('INTEGER           :01');
    expect(parsed).toContain(':2.16.840.1.101.3.4.3.17');
    expect(parsed).toMatch(/cont \[ 1 \]/);
  });

  it('refuses malformed PKCS#8', () => {
    const alg = algorithmIdentifier('1.3.101.112');
    expect(() => decodePkcs8(sequence(integer(2), alg, octetString(der('00'))))).toThrow(/version/);
    expect(() => decodePkcs8(sequence(integer(0), alg))).toThrow(Asn1Error);
    // a public key in a v1 structure
    expect(() =>
      decodePkcs8(sequence(integer(0), alg, octetString(der('00')), implicitPrimitive(1, der('0001')))),
    ).toThrow(Asn1Error);
    // attributes [0] are accepted and ignored
    const withAttributes = sequence(integer(0), alg, octetString(der('0420')), tlv(0xa0, Buffer.alloc(0)));
    expect(decodePkcs8(withAttributes).publicKey).toBeNull();
  });

  it('finds the SubjectPublicKeyInfo inside an openssl certificate', async () => {
    const certificate = await withScratch(async (dir) => {
      await openssl(
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-subj',
          '/CN=t',
          '-days',
          '1',
          '-keyout',
          'key.pem',
          '-outform',
          'DER',
          '-out',
          'cert.der',
        ],
        dir,
      );
      return readFile(path.join(dir, 'cert.der'));
    });
    const expected = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' });
    expect(certificateSpki(certificate).equals(expected)).toBe(true);
    expect(() => certificateSpki(expected)).toThrow(Asn1Error);
  });
});
