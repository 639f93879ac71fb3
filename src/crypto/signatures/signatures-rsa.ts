/**
 * RSA PKCS#1 v1.5 and PSS: node:crypto for the hashed forms; the prehashed forms (NONE*, NONESHA*)
 * build the block here and run the raw private operation in the signature worker pool.
 */
import { constants, type KeyObject, publicDecrypt, timingSafeEqual } from 'node:crypto';
import { TsbError } from '../../errors.js';
import type { ReadyKey } from '../mechanisms/key-material.js';
import { nodeHashName, nodeSignAsync, nodeSignInTurn, nodeVerifyAsync } from './node-signing.js';
import type { SignatureAlgorithm } from './signature-algorithms.js';
import {
  DIGEST_INFO_PREFIX,
  pssEncode,
  pssVerify,
  RSA_DIGEST_LENGTH,
  type RsaDigest,
  rsaDigestOfLength,
} from './signature-encoding.js';
import { badPayload } from './signature-request.js';
import { runInWorker } from './signatures-pool.js';

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
const PKCS1 = { padding: constants.RSA_PKCS1_PADDING };

const modulusBits = (key: KeyObject): number => key.asymmetricKeyDetails?.modulusLength ?? 0;
/** From here an RSA signature takes milliseconds (2 ms for RSA-3072, 5 ms for RSA-4096 here): in turn per partition */
const SLOW_RSA_BITS = 3072;

/**
 * What node:crypto is given for a hashed RSA signature: PKCS#1 v1.5 is the default padding of an `rsa`
 * key, and a bare KeyObject is about 15 µs cheaper per call on Node 24 than an options object
 * (bench/results/README.md); PSS needs the options.
 */
const rsaSigningKey = (key: KeyObject, algorithm: SignatureAlgorithm) =>
  algorithm.family !== 'RSA_PSS' && key.asymmetricKeyType === 'rsa'
    ? key
    : { key, ...(algorithm.family === 'RSA_PSS' ? PSS : PKCS1) };

/** The digest hash of a prehashed RSA form (NONE_WITH_RSA_PSS: from the digest length). */
const rsaPrehash = (algorithm: SignatureAlgorithm, payload: Buffer): RsaDigest =>
  (algorithm.hash === 'none' ? rsaDigestOfLength(payload.length) : algorithm.hash) as RsaDigest;

/**
 * PSS with a salt as long as the hash needs emLen ≥ 2·hLen + 2 (RFC 8017 §9.1.1): SHA-512 does not fit a
 * 1024-bit key. Such a pair is 607, before OpenSSL (or pssEncode) fails inside the operation.
 */
function checkPssFits(algorithm: SignatureAlgorithm, payload: Buffer, bits: number): void {
  if (algorithm.family !== 'RSA_PSS') return;
  const hLen = RSA_DIGEST_LENGTH[rsaPrehash(algorithm, payload)];
  if (Math.ceil((bits - 1) / 8) >= 2 * hLen + 2) return;
  throw new TsbError(
    'ALGORITHM_NOT_SUPPORTED_BY_KEY',
    `${algorithm.name} needs an RSA key of at least ${16 * hLen + 10} bits; this key has ${bits}`,
  );
}

/** The block a prehashed RSA form puts into the private operation, and its padding. */
function rsaBlock(
  algorithm: SignatureAlgorithm,
  payload: Buffer,
  bits: number,
): { data: Buffer; padding: 'pkcs1' | 'none' } {
  const k = Math.ceil(bits / 8);
  if (algorithm.family === 'RSA_PSS')
    return { data: pssEncode(rsaPrehash(algorithm, payload), payload, bits), padding: 'none' };
  const data =
    algorithm.hash === 'none'
      ? payload
      : Buffer.concat([DIGEST_INFO_PREFIX[algorithm.hash as RsaDigest], payload]);
  if (data.length > k - 11) {
    throw badPayload(
      `${algorithm.name} can sign at most ${k - 11 - (data.length - payload.length)} bytes with this key, not ${payload.length}`,
    );
  }
  return { data, padding: 'pkcs1' };
}

export async function signRsa(
  key: ReadyKey & { kind: 'node' },
  algorithm: SignatureAlgorithm,
  payload: Buffer,
): Promise<Buffer> {
  checkPssFits(algorithm, payload, modulusBits(key.key));
  if (!algorithm.prehashed) {
    const signer = modulusBits(key.key) >= SLOW_RSA_BITS ? nodeSignInTurn : nodeSignAsync;
    return signer(nodeHashName(algorithm.hash), payload, rsaSigningKey(key.key, algorithm));
  }
  const { data, padding } = rsaBlock(algorithm, payload, modulusBits(key.key));
  return Buffer.from((await runInWorker({ op: 'rsa-private', key: key.key, padding, data })) as Uint8Array);
}

export async function verifyRsa(
  key: KeyObject,
  algorithm: SignatureAlgorithm,
  payload: Buffer,
  signature: Buffer,
): Promise<boolean> {
  const bits = modulusBits(key);
  // RFC 8017 8.1.2/8.2.2 step 1; OpenSSL accepts a PSS signature whose leading zero byte was dropped
  if (signature.length !== Math.ceil(bits / 8)) return false;
  checkPssFits(algorithm, payload, bits);
  if (!algorithm.prehashed) {
    return nodeVerifyAsync(nodeHashName(algorithm.hash), payload, rsaSigningKey(key, algorithm), signature);
  }
  if (algorithm.family === 'RSA_PSS') {
    let block: Buffer;
    try {
      block = publicDecrypt({ key, padding: constants.RSA_NO_PADDING }, signature);
    } catch {
      return false;
    }
    return pssVerify(rsaPrehash(algorithm, payload), payload, block, bits);
  }
  const expected = rsaBlock(algorithm, payload, bits).data;
  try {
    const recovered = publicDecrypt({ key, ...PKCS1 }, signature);
    return recovered.length === expected.length && timingSafeEqual(recovered, expected);
  } catch {
    return false;
  }
}
