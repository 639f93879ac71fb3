/**
 * Shared DER handling of the families implemented with noble (BLS12-381, ML-DSA, ML-KEM, SLH-DSA):
 * their SubjectPublicKeyInfo is an AlgorithmIdentifier with the OID and no parameters and the raw
 * public key as BIT STRING; their private keys are PKCS#8 / OneAsymmetricKey with the same OID.
 */
import type { KeyAlgorithm } from '../algorithms.js';
import { type Asn1Node, children, decode, TAG } from '../der.js';
import {
  algorithmIdentifier,
  decodePkcs8,
  decodeSpki,
  encodePkcs8,
  encodeSpki,
  type PrivateKeyInfo,
} from '../spki-pkcs8.js';
import {
  describeAlgorithmOid,
  fail,
  type KeyMaterial,
  parsing,
  storedMaterial,
  type Unarmoured,
  wrongType,
} from './key-material.js';

export const nobleSpki = (oid: string, publicKey: Uint8Array): Buffer =>
  encodeSpki(algorithmIdentifier(oid), publicKey);

export const noblePkcs8 = (oid: string, privateKey: Uint8Array): Buffer =>
  encodePkcs8(algorithmIdentifier(oid), privateKey);

function checkLabel(algorithm: KeyAlgorithm, input: Unarmoured, expected: string, what: string): void {
  if (input.label !== null && input.label !== expected) {
    throw wrongType(algorithm, input.label.replace(/ (PRIVATE|PUBLIC) KEY$/, ''), what);
  }
}

function checkAlgorithm(
  algorithm: KeyAlgorithm,
  expectedOid: string,
  found: { oid: string; parameters: Buffer | null },
  what: string,
): void {
  if (found.oid !== expectedOid) throw wrongType(algorithm, describeAlgorithmOid(found.oid), what);
  if (found.parameters !== null) {
    throw fail('PARSING_KEY', `the ${what}'s AlgorithmIdentifier for ${algorithm} must not have parameters`);
  }
}

/** The raw public key inside an SPKI of the expected OID and length. */
export function readPublicKey(
  algorithm: KeyAlgorithm,
  oid: string,
  input: Unarmoured,
  publicKeyLength: number,
): Buffer {
  checkLabel(algorithm, input, 'PUBLIC KEY', 'public key');
  const spki = parsing('PARSING_KEY', `the public key is not a valid SubjectPublicKeyInfo`, () =>
    decodeSpki(input.der),
  );
  checkAlgorithm(algorithm, oid, spki.algorithm, 'public key');
  if (spki.publicKey.length !== publicKeyLength) {
    throw fail(
      'PARSING_KEY',
      `the ${algorithm} public key has ${spki.publicKey.length} bytes instead of ${publicKeyLength}`,
    );
  }
  return Buffer.from(spki.publicKey);
}

/** The PKCS#8 structure of a private key with the expected OID. */
export function readPrivateKeyInfo(algorithm: KeyAlgorithm, oid: string, input: Unarmoured): PrivateKeyInfo {
  checkLabel(algorithm, input, 'PRIVATE KEY', 'private key');
  const info = parsing('PARSING_KEY', 'the private key is not a valid PKCS#8 PrivateKeyInfo', () =>
    decodePkcs8(input.der),
  );
  checkAlgorithm(algorithm, oid, info.algorithm, 'private key');
  return info;
}

/** The content of stored (canonical) PKCS#8 material. */
export function readStoredPrivateKey(algorithm: KeyAlgorithm, oid: string, material: KeyMaterial): Buffer {
  const secret = material.secret;
  if (!secret) throw fail('OPERATION_FORBIDDEN_FOR_KEY', 'the key holds only a public key');
  return storedMaterial(algorithm, () => {
    const info = decodePkcs8(secret);
    if (info.algorithm.oid !== oid) throw new Error('unexpected OID');
    return info.privateKey;
  });
}

/** An OneAsymmetricKey v2 public key must be the one derived from the private key. */
export function checkEmbeddedPublicKey(info: PrivateKeyInfo, derived: Uint8Array): void {
  if (info.publicKey && !Buffer.from(derived).equals(info.publicKey)) {
    throw fail(
      'PARSING_KEY',
      'the public key inside the PKCS#8 structure does not belong to its private key',
    );
  }
}

/**
 * `privateKey` content that is either a plain OCTET STRING of the given length or the raw bytes
 * (the drafts and early implementations disagreed whether to nest it).
 */
export function readRawOrOctetString(content: Buffer, length: number, what: string): Buffer {
  if (content.length === length) return content;
  if (content.length === length + 2 && content[0] === TAG.OCTET_STRING && content[1] === length) {
    return content.subarray(2);
  }
  throw fail('PARSING_KEY', `the ${what} private key must be ${length} bytes`);
}

/**
 * ML-DSA / ML-KEM `PrivateKey ::= CHOICE { seed [0] IMPLICIT OCTET STRING, expandedKey OCTET STRING,
 * both SEQUENCE { seed OCTET STRING, expandedKey OCTET STRING } }` (RFC 9881 / RFC 9935); also the
 * raw seed or expanded key without the CHOICE, as some pre-RFC implementations wrote them.
 */
export function readSeedChoice(
  content: Buffer,
  seedLength: number,
  expandedLength: number,
  what: string,
): { seed: Buffer | null; expanded: Buffer | null } {
  const invalid = () =>
    fail(
      'PARSING_KEY',
      `the ${what} private key must be a ${seedLength}-byte seed or a ${expandedLength}-byte expanded key`,
    );
  let node: Asn1Node | null;
  try {
    node = decode(content);
  } catch {
    node = null;
  }
  if (node) {
    if (node.tag === 0x80 && node.content.length === seedLength)
      return { seed: node.content, expanded: null };
    if (node.tag === TAG.OCTET_STRING && node.content.length === expandedLength) {
      return { seed: null, expanded: node.content };
    }
    if (node.tag === TAG.SEQUENCE) {
      const both = sequenceOfSeedAndExpanded(node, seedLength, expandedLength);
      if (both) return both;
    }
  }
  if (content.length === seedLength) return { seed: content, expanded: null };
  if (content.length === expandedLength) return { seed: null, expanded: content };
  throw invalid();
}

function sequenceOfSeedAndExpanded(
  node: Asn1Node,
  seedLength: number,
  expandedLength: number,
): { seed: Buffer; expanded: Buffer } | null {
  let parts: Asn1Node[];
  try {
    parts = children(node);
  } catch {
    return null;
  }
  const [seed, expanded] = parts;
  if (
    parts.length === 2 &&
    seed?.tag === TAG.OCTET_STRING &&
    seed.content.length === seedLength &&
    expanded?.tag === TAG.OCTET_STRING &&
    expanded.content.length === expandedLength
  ) {
    return { seed: seed.content, expanded: expanded.content };
  }
  return null;
}
