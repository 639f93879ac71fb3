/**
 * The request checks shared by sign and verify (and by an SKA request checked before it is stored).
 *
 * Decisions (see also signature-algorithms.ts):
 * - `signatureType` (default DER) shapes ECDSA / DSA signatures: DER, RAW = r ‖ s each of the group
 *   order's byte width, ETH = r ‖ s ‖ v (v = 27 + recovery id, low s) for secp256k1 keys with
 *   KECCAK256_WITH_ECDSA only (607 otherwise). Other families have one encoding: DER and RAW are
 *   accepted and mean the same, ETH is refused with 607. A verify request that names no type accepts
 *   an ECDSA / DSA signature in any encoding signing could have given it (verifiableEncodings).
 * - `payloadType` (UNSPECIFIED, ISO_20022, PDF, BTC, ETH, HEX) describes the payload for approvers
 *   (how to show it); HEX also says the payload is hex text rather than base64 (decoded before it gets
 *   here, src/hsm/key-operations/operation-inputs.ts signPayloadOf). Unknown values → 600.
 * - `context` (≤ 255 bytes) is the FIPS 204 / 205 context string of ML-DSA / SLH-DSA; with any other
 *   algorithm, and with ML_DSA_M (µ already binds it), a non-empty context → 600.
 * - Prehashed forms check the digest length: NONESHAxxx exactly the hash length, NONE_WITH_RSA_PSS
 *   20/28/32/48/64 bytes, NONE_WITH_ECDSA / NONE_WITH_DSA 1–64 bytes, NONE_WITH_RSA at most k − 11
 *   bytes, ML_DSA_M exactly 64 bytes, NONE_WITH_EC_SCHNORR_BIP0340 exactly 32 bytes (the message BIP-340 and
 *   libsecp256k1's schnorrsig_sign32 sign, a sighash); otherwise INVALID_PAYLOAD (612).
 */
import { TsbError } from '../../errors.js';
import { curveByOid, type KeyAlgorithm } from '../algorithms.js';
import { HASH_LENGTH, type SignatureAlgorithm, signatureAlgorithmFor } from './signature-algorithms.js';
import { rsaDigestOfLength, type SignatureType } from './signature-encoding.js';

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
export const badPayload = (message: string) => new TsbError('INVALID_PAYLOAD', message);
export const notForKey = (message: string) => new TsbError('ALGORITHM_NOT_SUPPORTED_BY_KEY', message);

export interface Prepared {
  algorithm: SignatureAlgorithm;
  type: SignatureType;
  context: Buffer;
}

export function prepare(keyAlgorithm: KeyAlgorithm, curveOid: string | null, request: SignRequest): Prepared {
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

export function checkDigestLength(algorithm: SignatureAlgorithm, payload: Buffer): void {
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
  if (algorithm.family === 'SCHNORR_BIP340' && payload.length !== 32) {
    throw badPayload(`${algorithm.name} needs a 32-byte message as payload, not ${payload.length} bytes`);
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

/**
 * The encodings an ECDSA or DSA signature to verify may be in: the one the request names, or, when it names
 * none, each one a signature of this algorithm can have (DER, RAW, and ETH where signing allows it), as
 * tsb-client-go verifies the RAW signatures it asked for without repeating `signatureType`. Each encoding
 * carries the same (r, s), so accepting any of them accepts no other signature.
 */
export function verifiableEncodings(
  request: VerifyRequest,
  prepared: Prepared,
  curveOid: string | null,
): SignatureType[] {
  if (request.signatureType !== null && request.signatureType !== undefined) return [prepared.type];
  const eth =
    prepared.algorithm.name === 'KECCAK256_WITH_ECDSA' &&
    curveOid !== null &&
    curveByOid(curveOid)?.name === 'secp256k1';
  return eth ? ['DER', 'RAW', 'ETH'] : ['DER', 'RAW'];
}
