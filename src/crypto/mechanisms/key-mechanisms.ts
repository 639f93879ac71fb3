/**
 * The key mechanisms of the software HSM: generate, import, export and load keys of every algorithm
 * of the catalogue (../algorithms.ts). Asymmetric private keys are kept as PKCS#8 DER and public
 * keys as SPKI DER; symmetric keys as their raw bytes. Nothing here knows HTTP or the database.
 */
import { X509Certificate } from 'node:crypto';
import {
  type CurveInfo,
  isMlDsa,
  isMlKem,
  isSlhDsa,
  isStateful,
  isSymmetric,
  type KeyAlgorithm,
  normalizeAlgorithm,
  resolveCurve,
  resolveKeySize,
  type SymmetricAlgorithm,
} from '../algorithms.js';
import { Asn1Error } from '../der.js';
import { certificateSpki } from '../spki-pkcs8.js';
import { bls } from './bls.js';
import { dsa } from './dsa.js';
import { ec } from './ec.js';
import { edwards } from './edwards.js';
import { hmac } from './hmac.js';
import {
  type AsymmetricMechanism,
  fail,
  type ImportInput,
  type ImportSpec,
  type KeyMaterial,
  type KeySpec,
  type ReadyKey,
  unarmour,
} from './key-material.js';
import { mlDsa } from './ml-dsa.js';
import { mlKem } from './ml-kem.js';
import { rsa } from './rsa.js';
import { slhDsa } from './slh-dsa.js';
import { statefulKeys } from './stateful-keys.js';
import { type SecretMechanism, symmetric } from './symmetric.js';

export type { ImportInput, KeyMaterial, KeySpec, ReadyKey } from './key-material.js';
export { keygenPoolStats, shutdownKeygenPool } from './keygen-pool.js';
export { loadPublic, type ReadyPublicKey } from './public-keys.js';

export function asymmetricMechanism(algorithm: KeyAlgorithm): AsymmetricMechanism {
  switch (algorithm) {
    case 'RSA':
      return rsa;
    case 'EC':
      return ec;
    case 'ED':
      return edwards;
    case 'DSA':
      return dsa;
    case 'BLS':
      return bls;
    default:
      if (isMlDsa(algorithm)) return mlDsa;
      if (isMlKem(algorithm)) return mlKem;
      if (isSlhDsa(algorithm)) return slhDsa;
      if (isStateful(algorithm)) return statefulKeys;
      throw fail('INVALID_KEY_TYPE', `${algorithm} is not an asymmetric algorithm`);
  }
}

const secretMechanism = (algorithm: SymmetricAlgorithm): SecretMechanism =>
  algorithm === 'HMACSHA256' ? hmac : symmetric;

/**
 * Generates a key. Sizes and curves are checked first (INPUT_KEYSIZE, INPUT_VALIDATION_FAILED);
 * RSA/EC/ED/DSA pairs come from node's asynchronous generateKeyPair, slow SLH-DSA sets from the
 * worker pool, symmetric keys from crypto.randomBytes.
 */
export async function generateKey(spec: KeySpec): Promise<KeyMaterial> {
  const algorithm = normalizeAlgorithm(spec.algorithm);
  const curve = resolveCurve(algorithm, spec.curveOid);
  const keySize = resolveKeySize(algorithm, spec.keySize, curve);
  if (isSymmetric(algorithm)) return secretMechanism(algorithm).generate(algorithm, keySize);
  return asymmetricMechanism(algorithm).generate(algorithm, keySize, curve);
}

/**
 * Material from imported key bytes (DER, or PEM text whose armour and headers are stripped):
 * - `privateKey`: PKCS#8, or PKCS#1 (RSA) / SEC1 (EC) / traditional DSA;
 * - `publicKey`: SubjectPublicKeyInfo (or PKCS#1 for RSA);
 * - `certificate`: X.509; its public key is used;
 * - `secretKey`: the raw bytes of a symmetric key, of an offered size.
 * The key must be of `algorithm` (and on `curveOid` when given): INVALID_KEY_TYPE otherwise. A private
 * key given with a public key or certificate must belong to it: PARSING_KEY otherwise.
 */
export function importKey(input: ImportInput): KeyMaterial {
  const algorithm = normalizeAlgorithm(input.algorithm);
  const given = (value: Buffer | undefined): value is Buffer => value !== undefined && value !== null;
  if (isSymmetric(algorithm)) {
    if (given(input.privateKey) || given(input.publicKey) || given(input.certificate)) {
      throw fail('INPUT_VALIDATION_FAILED', `a ${algorithm} key is imported as secretKey only`);
    }
    if (!given(input.secretKey))
      throw fail('INPUT_VALIDATION_FAILED', `secretKey is required for ${algorithm} keys`);
    return secretMechanism(algorithm).fromSecret(algorithm, input.secretKey);
  }
  if (given(input.secretKey)) {
    throw fail('INPUT_VALIDATION_FAILED', `secretKey is only for symmetric keys, not for ${algorithm} keys`);
  }
  if (!given(input.privateKey) && !given(input.publicKey) && !given(input.certificate)) {
    throw fail(
      'INPUT_VALIDATION_FAILED',
      `privateKey, publicKey or certificate is required for ${algorithm} keys`,
    );
  }
  const mechanism = asymmetricMechanism(algorithm);
  const curve: CurveInfo | null =
    algorithm === 'EC' || algorithm === 'ED'
      ? input.curveOid
        ? resolveCurve(algorithm, input.curveOid)
        : null
      : resolveCurve(algorithm, input.curveOid);
  const spec: ImportSpec = { algorithm, curve };

  const fromPrivate = given(input.privateKey)
    ? mechanism.fromPrivate(unarmour(input.privateKey, 'private'), spec)
    : null;
  const fromPublic = given(input.publicKey)
    ? mechanism.fromPublic(unarmour(input.publicKey, 'public'), spec)
    : null;
  let certificate: Buffer | null = null;
  let fromCertificate: KeyMaterial | null = null;
  if (given(input.certificate)) {
    certificate = readCertificate(input.certificate, algorithm);
    fromCertificate = mechanism.fromPublic({ der: certificateSpki(certificate), label: null }, spec);
  }

  const publicParts = [
    { what: 'public key', material: fromPublic },
    { what: 'certificate', material: fromCertificate },
  ].filter((part): part is { what: string; material: KeyMaterial } => part.material !== null);
  const reference = fromPrivate ?? publicParts[0]!.material;
  for (const part of publicParts) {
    if (part.material === reference) continue;
    if (!part.material.publicKey!.equals(reference.publicKey!)) {
      throw fail(
        'PARSING_KEY',
        fromPrivate
          ? `the ${part.what} does not belong to the private key`
          : `the ${part.what} does not match the ${publicParts[0]!.what}`,
      );
    }
  }
  return { ...reference, certificate };
}

/**
 * `importKey`, after the mechanism's slow checks of the given keys ran in a worker thread (a DSA key's domain
 * parameters: 5–11 ms of the event loop for 3,072 bits); importKey finds them done and refuses what it always did.
 */
export async function importKeyOffThread(input: ImportInput): Promise<KeyMaterial> {
  await Promise.all(checksAhead(input));
  return importKey(input);
}

function checksAhead(input: ImportInput): Promise<void>[] {
  let mechanism: AsymmetricMechanism;
  try {
    mechanism = asymmetricMechanism(normalizeAlgorithm(input.algorithm));
  } catch {
    return [];
  }
  const { checkAhead } = mechanism;
  if (!checkAhead) return [];
  const inputs: [Buffer | undefined, 'private' | 'public' | 'certificate'][] = [
    [input.privateKey, 'private'],
    [input.publicKey, 'public'],
    [input.certificate, 'certificate'],
  ];
  const checks: Promise<void>[] = [];
  for (const [bytes, kind] of inputs) {
    if (!bytes) continue;
    try {
      const unarmoured = unarmour(bytes, kind);
      checks.push(
        kind === 'certificate'
          ? checkAhead({ der: certificateSpki(unarmoured.der), label: null }, 'public')
          : checkAhead(unarmoured, kind),
      );
    } catch {
      // importKey reports it
    }
  }
  return checks;
}

/** A certificate's DER, parsed by node:crypto (OpenSSL); PARSING_CERTIFICATE if it is not one. */
function readCertificate(bytes: Buffer, algorithm: KeyAlgorithm): Buffer {
  const { der } = unarmour(bytes, 'certificate');
  try {
    // the constructor parses and checks the whole certificate; PQC public keys it cannot read
    new X509Certificate(der);
  } catch {
    // OpenSSL 3.0 cannot load certificates whose key it does not know; check the structure only
    if (!(algorithm === 'BLS' || isMlDsa(algorithm) || isMlKem(algorithm) || isSlhDsa(algorithm))) {
      throw fail('PARSING_CERTIFICATE', 'the certificate is not a readable X.509 certificate');
    }
  }
  try {
    certificateSpki(der);
  } catch (error) {
    if (error instanceof Asn1Error) {
      throw fail('PARSING_CERTIFICATE', 'the certificate is not a readable X.509 certificate');
    }
    throw error;
  }
  return Buffer.from(der);
}

/** The SPKI DER of a key, computed from its private key when there is one. */
export function publicKeyOf(material: KeyMaterial): Buffer {
  if (isSymmetric(material.algorithm)) {
    throw fail('INVALID_KEY_TYPE', `a ${material.algorithm} key has no public key`);
  }
  if (material.secret === null) {
    if (!material.publicKey) throw fail('HSM_INTEGRITY', 'the key has neither a private nor a public key');
    return Buffer.from(material.publicKey);
  }
  return asymmetricMechanism(material.algorithm).publicKeyOf(material);
}

/** The key as exported: PKCS#8 DER + SPKI DER for key pairs, raw bytes for secret keys, SPKI for public keys. */
export function exportPrivateKey(material: KeyMaterial): {
  privateKey?: Buffer;
  publicKey?: Buffer;
  secretKey?: Buffer;
} {
  if (isSymmetric(material.algorithm)) {
    if (!material.secret) throw fail('HSM_INTEGRITY', `the ${material.algorithm} key has no stored secret`);
    return { secretKey: Buffer.from(material.secret) };
  }
  if (material.secret === null) return { publicKey: publicKeyOf(material) };
  return { privateKey: Buffer.from(material.secret), publicKey: publicKeyOf(material) };
}

/** Parses stored material into a key ready for an operation. */
export function loadPrivate(material: KeyMaterial): ReadyKey {
  const algorithm = normalizeAlgorithm(material.algorithm);
  if (isSymmetric(algorithm)) return secretMechanism(algorithm).load(material);
  if (material.secret === null) throw fail('OPERATION_FORBIDDEN_FOR_KEY', 'the key holds only a public key');
  return asymmetricMechanism(algorithm).load(material);
}
