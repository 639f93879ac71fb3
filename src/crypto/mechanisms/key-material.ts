/**
 * Types shared by the key mechanisms, PEM unarmouring, and the mapping of parse failures to
 * TSB errors. Error messages never contain key bytes.
 */
import type { KeyObject } from 'node:crypto';
import { TsbError, type TsbErrorName } from '../../errors.js';
import {
  CURVES,
  type CurveInfo,
  type KeyAlgorithm,
  type MlDsaAlgorithm,
  type MlKemAlgorithm,
  OIDS,
  PQ_PARAMS,
  type SlhDsaAlgorithm,
  type StatefulAlgorithm,
  type SymmetricAlgorithm,
} from '../algorithms.js';
import { Asn1Error } from '../der.js';
import { decodePkcs8, decodeSpki } from '../spki-pkcs8.js';
import type { NodePqKeys } from './pq-node-keys.js';

export interface KeySpec {
  algorithm: KeyAlgorithm;
  keySize?: number | null;
  curveOid?: string | null;
}

export interface KeyMaterial {
  algorithm: KeyAlgorithm;
  algorithmOid: string | null;
  curveOid: string | null;
  keySize: number;
  /** SPKI DER for asymmetric keys, null for symmetric */
  publicKey: Buffer | null;
  /** PKCS#8 DER for every asymmetric private key; raw key bytes for symmetric; null for public-only */
  secret: Buffer | null;
  /** the imported X.509 certificate (DER), when one was given */
  certificate?: Buffer | null;
}

export interface ImportInput {
  algorithm: KeyAlgorithm;
  privateKey?: Buffer;
  publicKey?: Buffer;
  secretKey?: Buffer;
  certificate?: Buffer;
  curveOid?: string | null;
}

/** A generated or parsed key ready for an operation (cached by the key store; never serialised). */
export type ReadyKey =
  | {
      kind: 'node';
      algorithm: 'RSA' | 'EC' | 'ED' | 'DSA';
      curveOid: string | null;
      /** the private key */
      key: KeyObject;
      publicKey: KeyObject;
    }
  | {
      kind: 'noble';
      algorithm: 'BLS' | MlDsaAlgorithm | MlKemAlgorithm | SlhDsaAlgorithm;
      /** in the form noble's sign/decapsulate take (expanded for ML-DSA and ML-KEM) */
      secretKey: Uint8Array;
      /** raw public key (BLS: compressed G1 point) */
      publicKey: Uint8Array;
      /** the same key in node:crypto, where the runtime has the algorithm (pq-node-keys.ts) */
      node?: NodePqKeys | null;
    }
  | {
      kind: 'stateful';
      algorithm: StatefulAlgorithm;
      /** the scheme's private key (crypto/stateful/): seeds, never an index */
      privateKey: Uint8Array;
      publicKey: Uint8Array;
    }
  | { kind: 'secret'; algorithm: SymmetricAlgorithm; key: KeyObject };

/** What the caller asked for when importing: the algorithm and, optionally, the curve. */
export interface ImportSpec {
  algorithm: KeyAlgorithm;
  curve: CurveInfo | null;
}

/** One asymmetric key family. */
export interface AsymmetricMechanism {
  generate(algorithm: KeyAlgorithm, keySize: number, curve: CurveInfo | null): Promise<KeyMaterial>;
  /** material (secret + public key) from a private key: DER, or PEM block with its label */
  fromPrivate(key: Unarmoured, spec: ImportSpec): KeyMaterial;
  /** public-only material from a SubjectPublicKeyInfo (DER, or PEM block with its label) */
  fromPublic(key: Unarmoured, spec: ImportSpec): KeyMaterial;
  /**
   * The slow checks of fromPrivate / fromPublic in a worker thread, remembered for them (DSA domain parameters):
   * only an optimisation, it never throws; fromPrivate / fromPublic refuse what is wrong.
   */
  checkAhead?(key: Unarmoured, kind: 'private' | 'public'): Promise<void>;
  /** the SPKI of stored material's secret */
  publicKeyOf(material: KeyMaterial): Buffer;
  load(material: KeyMaterial): ReadyKey;
}

// ---------------------------------------------------------------------------------------------
// Errors

export const fail = (kind: TsbErrorName, message: string): TsbError => new TsbError(kind, message);

/** Runs a parser; any non-TSB failure becomes the given TSB error (the cause's text is dropped: it may quote bytes). */
export function parsing<T>(kind: TsbErrorName, message: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof TsbError) throw error;
    throw new TsbError(kind, message);
  }
}

/** Parsing stored material failed: the data is ours, so that is an HSM integrity problem. */
export function storedMaterial<T>(algorithm: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof TsbError) throw error;
    throw new TsbError('HSM_INTEGRITY', `the stored ${algorithm} key material could not be parsed`);
  }
}

/** A readable name for an algorithm OID (for "this is an X key, not a Y key" messages). */
export function describeAlgorithmOid(oid: string): string {
  const named: Record<string, string> = {
    [OIDS.rsaEncryption]: 'RSA',
    '1.2.840.113549.1.1.10': 'RSA-PSS',
    [OIDS.ecPublicKey]: 'EC',
    [OIDS.dsa]: 'DSA',
    [OIDS.bls12381G1]: 'BLS',
    '1.3.101.110': 'X25519',
    '1.3.101.111': 'X448',
  };
  for (const curve of CURVES) if (curve.algorithm === 'ED') named[curve.oid] = `ED (${curve.name})`;
  for (const [name, params] of Object.entries(PQ_PARAMS)) named[params.oid] = name;
  return named[oid] ?? `unknown algorithm ${oid}`;
}

/** The algorithm OID of a DER SPKI or PKCS#8 structure, if it parses as one. */
export function peekAlgorithmOid(der: Buffer, kind: 'private' | 'public'): string | null {
  try {
    return kind === 'public' ? decodeSpki(der).algorithm.oid : decodePkcs8(der).algorithm.oid;
  } catch (error) {
    if (error instanceof Asn1Error) return null;
    throw error;
  }
}

export function wrongType(expected: KeyAlgorithm, actual: string, what: string): TsbError {
  return new TsbError('INVALID_KEY_TYPE', `the ${what} is a key of type ${actual}, not ${expected}`);
}

// ---------------------------------------------------------------------------------------------
// PEM

export interface Unarmoured {
  der: Buffer;
  /** the PEM label (`PRIVATE KEY`, `RSA PRIVATE KEY`, ...) or null for DER input */
  label: string | null;
}

const PEM_LABELS = {
  private: ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY'],
  public: ['PUBLIC KEY', 'RSA PUBLIC KEY'],
  certificate: ['CERTIFICATE', 'X509 CERTIFICATE'],
} as const;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * DER as given, or the DER inside PEM text: OpenSSL headers, explanatory text, "Bag Attributes" and
 * blocks of other types (e.g. `EC PARAMETERS`) are skipped; encrypted keys are refused.
 */
export function unarmour(bytes: Buffer, kind: 'private' | 'public' | 'certificate'): Unarmoured {
  const errorKind: TsbErrorName = kind === 'certificate' ? 'PARSING_CERTIFICATE' : 'PARSING_KEY';
  const what = kind === 'certificate' ? 'certificate' : `${kind} key`;
  if (bytes.length === 0) throw fail(errorKind, `the ${what} is empty`);
  // DER starts with a SEQUENCE tag; PEM text contains the armour line
  if (bytes[0] === 0x30 || !bytes.includes('-----BEGIN')) return { der: bytes, label: null };
  const text = bytes.toString('latin1');
  const accepted: readonly string[] = PEM_LABELS[kind];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const label = match[1]!;
    if (label === 'ENCRYPTED PRIVATE KEY' && kind === 'private') {
      throw fail('PARSING_KEY', 'encrypted private keys are not supported; import the plain key');
    }
    if (!accepted.includes(label)) continue;
    const lines = match[2]!.split(/\r?\n/).map((line) => line.trim());
    if (lines.some((line) => /^Proc-Type:.*ENCRYPTED/i.test(line))) {
      throw fail('PARSING_KEY', 'encrypted private keys are not supported; import the plain key');
    }
    const body = lines.filter((line) => line !== '' && !line.includes(':')).join('');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0 || body.length === 0) {
      throw fail(
        kind === 'certificate' ? 'CERTIFICATE_INVALID_ENCODING' : 'KEY_INVALID_ENCODING',
        `the PEM ${label} block is not valid base64`,
      );
    }
    return { der: Buffer.from(body, 'base64'), label };
  }
  throw fail(errorKind, `no PEM block of a ${what} (${accepted.join(', ')}) found`);
}
