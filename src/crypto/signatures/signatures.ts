/**
 * Signing and verification with ready keys: no HTTP, no database.
 *
 * Where the work runs:
 * - node:crypto (OpenSSL), asynchronous callback form, on libuv's thread pool: RSA PKCS#1 v1.5 and
 *   PSS with SHA-1/2, ECDSA with SHA-1/2/3 and DOUBLE_SHA256, DSA with SHA-1/2, EdDSA.
 * - noble on the calling thread (sub-millisecond): ECDSA over a digest node cannot take (NONE,
 *   KECCAK*, RFC 6979 deterministic, ETH recoverable signatures).
 * - dsa-digest.ts on the calling thread (about a millisecond): NONE_WITH_DSA, g^k by OpenSSL's
 *   constant-time exponentiation, the rest blinded.
 * - the signature worker pool (signatures-pool.ts): ML-DSA, SLH-DSA, BLS sign and verify, and the
 *   raw RSA private operation of the prehashed RSA forms (NONE*, NONESHA*).
 *
 * Decisions (see also signature-algorithms.ts):
 * - `signatureType` (default DER) shapes ECDSA / DSA signatures: DER, RAW = r ‖ s each of the group
 *   order's byte width, ETH = r ‖ s ‖ v (v = 27 + recovery id, low s) for secp256k1 keys with
 *   KECCAK256_WITH_ECDSA only (607 otherwise). Other families have one encoding: DER and RAW are
 *   accepted and mean the same, ETH is refused with 607. A verify request that names no type accepts
 *   an ECDSA / DSA signature in any encoding signing could have given it.
 * - ECDSA signatures on secp256k1 are always low-s normalised (BIP-62 / EIP-2), whatever the encoding.
 * - `payloadType` (UNSPECIFIED, ISO_20022, PDF, BTC, ETH, HEX) describes the payload for approvers
 *   (how to show it); HEX also says the payload is hex text rather than base64 (decoded before it gets
 *   here, src/hsm/operation-inputs.ts signPayloadOf). Unknown values → 600.
 * - `context` (≤ 255 bytes) is the FIPS 204 / 205 context string of ML-DSA / SLH-DSA; with any other
 *   algorithm, and with ML_DSA_M (µ already binds it), a non-empty context → 600.
 * - Prehashed forms check the digest length: NONESHAxxx exactly the hash length, NONE_WITH_RSA_PSS
 *   20/28/32/48/64 bytes, NONE_WITH_ECDSA / NONE_WITH_DSA 1–64 bytes, NONE_WITH_RSA at most k − 11
 *   bytes, ML_DSA_M exactly 64 bytes; otherwise INVALID_PAYLOAD (612).
 * - verify answers false for malformed signatures; it throws only for requests that are wrong
 *   whatever the signature (unknown algorithm 600, algorithm not for the key 607, bad digest length 612).
 */
import {
  constants,
  createHash,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  publicDecrypt,
  timingSafeEqual,
} from 'node:crypto';
import { ecdsa } from '@noble/curves/abstract/weierstrass.js';
import { brainpoolP256r1, brainpoolP384r1, brainpoolP512r1 } from '@noble/curves/misc.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { keccak_224, keccak_256, keccak_384, keccak_512 } from '@noble/hashes/sha3.js';
import { TsbError } from '../../errors.js';
import { curveByOid, isMlDsa, isSlhDsa, type KeyAlgorithm } from '../algorithms.js';
import { children, decode, decodePkcs8, decodeSpki, readOctetString } from '../der.js';
import type { ReadyKey } from '../mechanisms/key-material.js';
import type { ReadyPublicKey } from '../mechanisms/public-keys.js';
import { dsaPrivateKey, dsaPublicKey, dsaSignDigest, dsaVerifyDigest } from './dsa-digest.js';
import { HASH_LENGTH, type SignatureAlgorithm, signatureAlgorithmFor } from './signature-algorithms.js';
import {
  DIGEST_INFO_PREFIX,
  pssEncode,
  pssVerify,
  type RS,
  type RsaDigest,
  readDerSignature,
  readRawSignature,
  rsaDigestOfLength,
  toBigInt,
  toBytes,
  lowS as toLowS,
  writeDerSignature,
  writeRawSignature,
} from './signature-encoding.js';
import type { NobleTask, PreHash } from './signatures-noble.js';
import { runInWorker } from './signatures-pool.js';

export { signatureAlgorithmFits, signatureAlgorithmsFor } from './signature-algorithms.js';

export type SignatureType = 'DER' | 'RAW' | 'ETH';

export interface SignRequest {
  signatureAlgorithm: string;
  payload: Buffer;
  signatureType?: SignatureType | string | null;
  payloadType?: string | null;
  context?: Buffer | null;
}

export interface VerifyRequest extends SignRequest {
  signature: Buffer;
}

export const PAYLOAD_TYPES = ['UNSPECIFIED', 'ISO_20022', 'PDF', 'BTC', 'ETH', 'HEX'] as const;

const invalid = (message: string) => new TsbError('INPUT_VALIDATION_FAILED', message);
const badPayload = (message: string) => new TsbError('INVALID_PAYLOAD', message);
const notForKey = (message: string) => new TsbError('ALGORITHM_NOT_SUPPORTED_BY_KEY', message);

// ---------------------------------------------------------------------------------------------
// Request checks shared by sign and verify

interface Prepared {
  algorithm: SignatureAlgorithm;
  type: SignatureType;
  context: Buffer;
}

function prepare(keyAlgorithm: KeyAlgorithm, curveOid: string | null, request: SignRequest): Prepared {
  const algorithm = signatureAlgorithmFor(keyAlgorithm, curveOid, request.signatureAlgorithm);
  if (!Buffer.isBuffer(request.payload)) throw invalid('payload is required');

  const givenType = request.signatureType ?? 'DER';
  const type = typeof givenType === 'string' ? givenType.trim().toUpperCase() : '';
  if (type !== 'DER' && type !== 'RAW' && type !== 'ETH') {
    throw invalid(`unsupported signatureType "${String(givenType)}"; supported: DER, RAW, ETH`);
  }
  if (type === 'ETH') {
    const curve = curveOid ? curveByOid(curveOid) : undefined;
    if (algorithm.name !== 'KECCAK256_WITH_ECDSA' || curve?.name !== 'secp256k1') {
      throw notForKey(
        `signatureType ETH needs KECCAK256_WITH_ECDSA with a secp256k1 key, not ${algorithm.name} with a ${keyAlgorithm} key${curve ? ` on ${curve.name}` : ''}`,
      );
    }
  }

  if (request.payloadType !== null && request.payloadType !== undefined) {
    if (!(PAYLOAD_TYPES as readonly string[]).includes(String(request.payloadType).toUpperCase())) {
      throw invalid(
        `unsupported payloadType "${String(request.payloadType)}"; supported: ${PAYLOAD_TYPES.join(', ')}`,
      );
    }
  }

  const context = request.context ?? Buffer.alloc(0);
  if (context.length > 0) {
    if (algorithm.family !== 'ML_DSA' && algorithm.family !== 'SLH_DSA') {
      throw invalid(`a context is only used by ML-DSA and SLH-DSA signatures, not by ${algorithm.name}`);
    }
    if (algorithm.externalMu) throw invalid('ML_DSA_M signs a given µ, which already binds the context');
    if (context.length > 255) throw invalid('the context is longer than 255 bytes');
  }
  if (algorithm.externalMu && request.payload.length !== 64) {
    throw badPayload(
      `ML_DSA_M needs the 64-byte message representative µ, not ${request.payload.length} bytes`,
    );
  }
  return { algorithm, type: type as SignatureType, context };
}

function checkDigestLength(algorithm: SignatureAlgorithm, payload: Buffer): void {
  if (!algorithm.prehashed || algorithm.externalMu) return;
  if (algorithm.hash !== 'none') {
    const expected = HASH_LENGTH[algorithm.hash];
    if (payload.length !== expected) {
      throw badPayload(
        `${algorithm.name} needs a ${expected}-byte ${algorithm.hash.toUpperCase()} digest as payload, not ${payload.length} bytes`,
      );
    }
    return;
  }
  if (algorithm.family === 'RSA_PSS' && rsaDigestOfLength(payload.length) === null) {
    throw badPayload(
      `${algorithm.name} needs a SHA-1/224/256/384/512 digest (20, 28, 32, 48 or 64 bytes), not ${payload.length} bytes`,
    );
  }
  if (
    (algorithm.family === 'ECDSA' || algorithm.family === 'DSA') &&
    (payload.length < 1 || payload.length > 64)
  ) {
    throw badPayload(
      `${algorithm.name} needs a digest of 1 to 64 bytes as payload, not ${payload.length} bytes`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// node:crypto in callback form

const nodeSignAsync = (
  hash: string | null,
  data: Buffer,
  key: Parameters<typeof nodeSign>[2],
): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    nodeSign(hash, data, key, (error, signature) => (error ? reject(error) : resolve(signature)));
  });

const nodeVerifyAsync = (
  hash: string | null,
  data: Buffer,
  key: Parameters<typeof nodeVerify>[2],
  signature: Buffer,
): Promise<boolean> =>
  new Promise((resolve) => {
    try {
      nodeVerify(hash, data, key, signature, (error, valid) => resolve(!error && valid));
    } catch {
      resolve(false);
    }
  });

// ---------------------------------------------------------------------------------------------
// Digests

const KECCAK = { keccak224: keccak_224, keccak256: keccak_256, keccak384: keccak_384, keccak512: keccak_512 };

const nodeHashName = (hash: SignatureAlgorithm['hash']): string => hash; // sha1, sha224…, sha3-256…

/** The digest ECDSA signs for the noble path (NONE: the payload itself). */
function ecdsaDigest(algorithm: SignatureAlgorithm, payload: Buffer): Uint8Array {
  if (algorithm.hash === 'none') return payload;
  if (algorithm.hash in KECCAK) return KECCAK[algorithm.hash as keyof typeof KECCAK](payload);
  return createHash(nodeHashName(algorithm.hash)).update(payload).digest();
}

// ---------------------------------------------------------------------------------------------
// EC keys: curve parameters, private scalar and public point for noble

type NobleEcdsa = typeof p256;

interface EcCurve {
  name: string;
  noble: NobleEcdsa;
  order: bigint;
  width: number;
  /** RFC 6979 with HMAC-SHA-256 as its hash (SHA256_WITH_ECDSA_DETERMINISTIC), whatever the curve */
  deterministic: () => NobleEcdsa;
}

const NOBLE_CURVES: Record<string, NobleEcdsa> = {
  secp256r1: p256,
  secp384r1: p384,
  secp521r1: p521,
  secp256k1: secp256k1 as unknown as NobleEcdsa,
  brainpoolP256r1,
  brainpoolP384r1,
  brainpoolP512r1,
};

const curves = new Map<string, EcCurve>();

function ecCurve(curveOid: string | null): EcCurve {
  const info = curveOid ? curveByOid(curveOid) : undefined;
  const cached = curveOid ? curves.get(curveOid) : undefined;
  if (cached) return cached;
  const noble = info ? NOBLE_CURVES[info.name] : undefined;
  if (!info || !noble) throw new TsbError('HSM_INTEGRITY', `the EC key has an unknown curve ${curveOid}`);
  let sha256Variant: NobleEcdsa | null = null;
  const curve: EcCurve = {
    name: info.name,
    noble,
    order: noble.Point.Fn.ORDER,
    width: noble.Point.Fn.BYTES,
    deterministic: () => {
      sha256Variant ??= ecdsa(noble.Point, nobleSha256) as NobleEcdsa;
      return sha256Variant;
    },
  };
  curves.set(info.oid, curve);
  return curve;
}

const ecScalars = new WeakMap<KeyObject, Uint8Array>();
const ecPoints = new WeakMap<KeyObject, Uint8Array>();

/** The uncompressed public point of an EC public KeyObject. */
function ecPoint(publicKey: KeyObject): Uint8Array {
  let point = ecPoints.get(publicKey);
  if (!point) {
    point = decodeSpki(publicKey.export({ type: 'spki', format: 'der' })).publicKey;
    ecPoints.set(publicKey, point);
  }
  return point;
}

/** The private scalar of an EC KeyObject (SEC1 ECPrivateKey in PKCS#8), checked against its public key once. */
function ecScalar(key: ReadyKey & { kind: 'node' }, curve: EcCurve): Uint8Array {
  let scalar = ecScalars.get(key.key);
  if (scalar) return scalar;
  try {
    const info = decodePkcs8(key.key.export({ type: 'pkcs8', format: 'der' }));
    const ecPrivateKey = children(decode(info.privateKey));
    scalar = toBytes(toBigInt(readOctetString(ecPrivateKey[1]!)), curve.width);
  } catch {
    throw new TsbError('HSM_INTEGRITY', 'the EC private key could not be read');
  }
  const derived = curve.noble.getPublicKey(scalar, false);
  if (!Buffer.from(derived).equals(Buffer.from(ecPoint(key.publicKey)))) {
    throw new TsbError('HSM_INTEGRITY', 'the EC private key does not match its public key');
  }
  ecScalars.set(key.key, scalar);
  return scalar;
}

/** ECDSA signatures node can make: a hash OpenSSL has (DOUBLE_SHA256 = SHA-256 over SHA-256(payload)). */
const nodeEcdsa = (algorithm: SignatureAlgorithm): boolean =>
  !algorithm.prehashed && !algorithm.deterministic && !(algorithm.hash in KECCAK);

function encodeRs(rs: RS, type: SignatureType, curve: { width: number }): Buffer {
  return type === 'RAW' ? writeRawSignature(rs, curve.width) : writeDerSignature(rs);
}

async function signEcdsa(
  key: ReadyKey & { kind: 'node' },
  prepared: Prepared,
  payload: Buffer,
): Promise<Buffer> {
  const { algorithm, type } = prepared;
  const curve = ecCurve(key.curveOid);
  const k1 = curve.name === 'secp256k1';
  let rs: RS;
  if (nodeEcdsa(algorithm)) {
    const data = algorithm.hash === 'double-sha256' ? createHash('sha256').update(payload).digest() : payload;
    const hash = algorithm.hash === 'double-sha256' ? 'sha256' : nodeHashName(algorithm.hash);
    const raw = await nodeSignAsync(hash, data, { key: key.key, dsaEncoding: 'ieee-p1363' });
    rs = readRawSignature(raw, curve.width)!;
  } else {
    const digest = ecdsaDigest(algorithm, payload);
    const scalar = ecScalar(key, curve);
    const impl = algorithm.deterministic ? curve.deterministic() : curve.noble;
    const options = {
      prehash: false,
      lowS: k1,
      extraEntropy: !algorithm.deterministic,
    } as const;
    if (type === 'ETH') {
      const recovered = secp256k1.sign(digest, scalar, { ...options, lowS: true, format: 'recovered' });
      return Buffer.concat([recovered.subarray(1), Buffer.of(27 + recovered[0]!)]);
    }
    const compact = impl.sign(digest, scalar, { ...options, format: 'compact' });
    rs = readRawSignature(compact, curve.width)!;
  }
  if (k1) rs = toLowS(rs, curve.order);
  return encodeRs(rs, type, curve);
}

function readRs(signature: Buffer, type: SignatureType, width: number, order: bigint): RS | null {
  const rs = type === 'RAW' ? readRawSignature(signature, width) : readDerSignature(signature);
  if (!rs || rs.r >= order || rs.s >= order) return null;
  return rs;
}

async function verifyEcdsa(
  key: KeyObject,
  curveOid: string | null,
  prepared: Prepared,
  payload: Buffer,
  signature: Buffer,
): Promise<boolean> {
  const { algorithm, type } = prepared;
  const curve = ecCurve(curveOid);
  if (type === 'ETH') {
    if (signature.length !== 65) return false;
    const v = signature[64]!;
    const recovery = v >= 27 ? v - 27 : v;
    if (recovery !== 0 && recovery !== 1) return false;
    try {
      const digest = ecdsaDigest(algorithm, payload);
      const recovered = secp256k1.recoverPublicKey(
        Buffer.concat([Buffer.of(recovery), signature.subarray(0, 64)]),
        digest,
        { prehash: false },
      );
      return secp256k1.Point.fromBytes(recovered).equals(secp256k1.Point.fromBytes(ecPoint(key)));
    } catch {
      return false;
    }
  }
  const rs = readRs(signature, type, curve.width, curve.order);
  if (!rs) return false;
  const raw = writeRawSignature(rs, curve.width);
  if (nodeEcdsa(algorithm) || algorithm.deterministic) {
    const data = algorithm.hash === 'double-sha256' ? createHash('sha256').update(payload).digest() : payload;
    const hash = algorithm.hash === 'double-sha256' ? 'sha256' : nodeHashName(algorithm.hash);
    return nodeVerifyAsync(hash, data, { key, dsaEncoding: 'ieee-p1363' }, raw);
  }
  try {
    return curve.noble.verify(raw, ecdsaDigest(algorithm, payload), ecPoint(key), {
      prehash: false,
      lowS: false,
    });
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// DSA

async function signDsa(
  key: ReadyKey & { kind: 'node' },
  prepared: Prepared,
  payload: Buffer,
): Promise<Buffer> {
  const { algorithm, type } = prepared;
  const width = (key.key.asymmetricKeyDetails?.divisorLength ?? 256) / 8;
  let rs: RS;
  if (algorithm.prehashed) {
    rs = dsaSignDigest(dsaPrivateKey(key.key), payload);
  } else {
    const raw = await nodeSignAsync(nodeHashName(algorithm.hash), payload, {
      key: key.key,
      dsaEncoding: 'ieee-p1363',
    });
    rs = readRawSignature(raw, width)!;
  }
  return encodeRs(rs, type, { width });
}

async function verifyDsa(
  key: KeyObject,
  prepared: Prepared,
  payload: Buffer,
  signature: Buffer,
): Promise<boolean> {
  const { algorithm, type } = prepared;
  const publicKey = dsaPublicKey(key);
  const rs = readRs(signature, type, publicKey.width, publicKey.q);
  if (!rs) return false;
  if (algorithm.prehashed) return dsaVerifyDigest(publicKey, payload, rs);
  const raw = writeRawSignature(rs, publicKey.width);
  return nodeVerifyAsync(nodeHashName(algorithm.hash), payload, { key, dsaEncoding: 'ieee-p1363' }, raw);
}

// ---------------------------------------------------------------------------------------------
// RSA

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
const PKCS1 = { padding: constants.RSA_PKCS1_PADDING };

const modulusBits = (key: KeyObject): number => key.asymmetricKeyDetails?.modulusLength ?? 0;

/** The digest hash of a prehashed RSA form (NONE_WITH_RSA_PSS: from the digest length). */
const rsaPrehash = (algorithm: SignatureAlgorithm, payload: Buffer): RsaDigest =>
  (algorithm.hash === 'none' ? rsaDigestOfLength(payload.length) : algorithm.hash) as RsaDigest;

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

async function signRsa(
  key: ReadyKey & { kind: 'node' },
  algorithm: SignatureAlgorithm,
  payload: Buffer,
): Promise<Buffer> {
  if (!algorithm.prehashed) {
    return nodeSignAsync(nodeHashName(algorithm.hash), payload, {
      key: key.key,
      ...(algorithm.family === 'RSA_PSS' ? PSS : PKCS1),
    });
  }
  const { data, padding } = rsaBlock(algorithm, payload, modulusBits(key.key));
  return Buffer.from((await runInWorker({ op: 'rsa-private', key: key.key, padding, data })) as Uint8Array);
}

async function verifyRsa(
  key: KeyObject,
  algorithm: SignatureAlgorithm,
  payload: Buffer,
  signature: Buffer,
): Promise<boolean> {
  if (!algorithm.prehashed) {
    return nodeVerifyAsync(
      nodeHashName(algorithm.hash),
      payload,
      { key, ...(algorithm.family === 'RSA_PSS' ? PSS : PKCS1) },
      signature,
    );
  }
  const bits = modulusBits(key);
  const k = Math.ceil(bits / 8);
  if (signature.length !== k) return false;
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

// ---------------------------------------------------------------------------------------------
// noble families (worker pool)

const preHashOf = (algorithm: SignatureAlgorithm): PreHash | null =>
  algorithm.hash === 'none' ? null : (algorithm.hash as PreHash);

function nobleSignTask(key: ReadyKey & { kind: 'noble' }, prepared: Prepared, payload: Buffer): NobleTask {
  const { algorithm, context } = prepared;
  const common = { message: payload, context, preHash: preHashOf(algorithm) };
  if (key.algorithm === 'BLS') return { op: 'bls-sign', secretKey: key.secretKey, message: payload };
  if (isMlDsa(key.algorithm)) {
    return {
      op: 'ml-dsa-sign',
      algorithm: key.algorithm,
      secretKey: key.secretKey,
      externalMu: algorithm.externalMu,
      ...common,
    };
  }
  if (isSlhDsa(key.algorithm))
    return { op: 'slh-dsa-sign', algorithm: key.algorithm, secretKey: key.secretKey, ...common };
  throw notForKey(`${key.algorithm} keys cannot sign`);
}

function nobleVerifyTask(
  key: ReadyPublicKey & { kind: 'noble' },
  prepared: Prepared,
  payload: Buffer,
  signature: Buffer,
): NobleTask {
  const { algorithm, context } = prepared;
  const common = {
    message: payload,
    context,
    preHash: preHashOf(algorithm),
    publicKey: key.publicKey,
    signature,
  };
  if (key.algorithm === 'BLS')
    return { op: 'bls-verify', publicKey: key.publicKey, message: payload, signature };
  if (isMlDsa(key.algorithm))
    return { op: 'ml-dsa-verify', algorithm: key.algorithm, externalMu: algorithm.externalMu, ...common };
  if (isSlhDsa(key.algorithm)) return { op: 'slh-dsa-verify', algorithm: key.algorithm, ...common };
  throw notForKey(`${key.algorithm} keys cannot verify signatures`);
}

// ---------------------------------------------------------------------------------------------
// API

/** Checks a sign request against a key type without signing (an SKA request is checked before it is stored). */
export function checkSignRequest(
  keyAlgorithm: KeyAlgorithm,
  curveOid: string | null,
  request: SignRequest,
): void {
  checkDigestLength(prepare(keyAlgorithm, curveOid, request).algorithm, request.payload);
}

/** Signs `payload` with a ready private key; the signature bytes (encoding per signatureType). */
export async function sign(key: ReadyKey, request: SignRequest): Promise<Buffer> {
  const curveOid = key.kind === 'node' ? key.curveOid : null;
  const prepared = prepare(key.algorithm, curveOid, request);
  const { algorithm } = prepared;
  const payload = request.payload;
  checkDigestLength(algorithm, payload);
  if (key.kind === 'secret')
    throw notForKey(`a ${key.algorithm} key cannot make ${algorithm.name} signatures`);
  if (key.kind === 'noble')
    return Buffer.from((await runInWorker(nobleSignTask(key, prepared, payload))) as Uint8Array);
  switch (key.algorithm) {
    case 'RSA':
      return signRsa(key, algorithm, payload);
    case 'EC':
      return signEcdsa(key, prepared, payload);
    case 'DSA':
      return signDsa(key, prepared, payload);
    case 'ED':
      return nodeSignAsync(null, payload, key.key);
  }
}

/** Verifies a signature with a ready public key: false for wrong or malformed signatures. */
export async function verify(publicKey: ReadyPublicKey, request: VerifyRequest): Promise<boolean> {
  const curveOid = publicKey.kind === 'node' ? publicKey.curveOid : null;
  const prepared = prepare(publicKey.algorithm, curveOid, request);
  const { algorithm } = prepared;
  const { payload, signature } = request;
  checkDigestLength(algorithm, payload);
  if (!Buffer.isBuffer(signature) || signature.length === 0) return false;
  if (publicKey.kind === 'noble') {
    return (await runInWorker(nobleVerifyTask(publicKey, prepared, payload, signature))) === true;
  }
  switch (publicKey.algorithm) {
    case 'RSA':
      return verifyRsa(publicKey.key, algorithm, payload, signature);
    case 'EC':
    case 'DSA':
      for (const type of encodingsOf(request, prepared, publicKey.curveOid)) {
        const as = { ...prepared, type };
        const valid =
          publicKey.algorithm === 'EC'
            ? await verifyEcdsa(publicKey.key, publicKey.curveOid, as, payload, signature)
            : await verifyDsa(publicKey.key, as, payload, signature);
        if (valid) return true;
      }
      return false;
    case 'ED':
      return nodeVerifyAsync(null, payload, publicKey.key, signature);
  }
}

/**
 * The encodings an ECDSA or DSA signature to verify may be in: the one the request names, or, when it names
 * none, each one a signature of this algorithm can have (DER, RAW, and ETH where signing allows it), as
 * tsb-client-go verifies the RAW signatures it asked for without repeating `signatureType`. Each encoding
 * carries the same (r, s), so accepting any of them accepts no other signature.
 */
function encodingsOf(request: VerifyRequest, prepared: Prepared, curveOid: string | null): SignatureType[] {
  if (request.signatureType !== null && request.signatureType !== undefined) return [prepared.type];
  const eth =
    prepared.algorithm.name === 'KECCAK256_WITH_ECDSA' &&
    curveOid !== null &&
    curveByOid(curveOid)?.name === 'secp256k1';
  return eth ? ['DER', 'RAW', 'ETH'] : ['DER', 'RAW'];
}

/** The public half of a ready private key, for verifying with it (tests, self-checks). */
export function publicOf(key: ReadyKey): ReadyPublicKey {
  if (key.kind === 'node')
    return { kind: 'node', algorithm: key.algorithm, curveOid: key.curveOid, key: key.publicKey };
  if (key.kind === 'noble') return { kind: 'noble', algorithm: key.algorithm, publicKey: key.publicKey };
  throw notForKey(`a ${key.algorithm} key has no public key`);
}
