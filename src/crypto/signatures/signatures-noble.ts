/**
 * The signature computations done with noble (ML-DSA, SLH-DSA, BLS12-381) and the raw RSA private
 * operation of the prehashed RSA forms, as plain tasks that run either in a worker thread
 * (signatures-pool.ts) or inline. Kept free of project imports other than the noble parameter
 * tables, so the worker loads little.
 *
 * - ML-DSA / SLH-DSA: the formatted message M′ of FIPS 204 §5.2–5.4 / FIPS 205 §10.2–10.3 is built
 *   here and signed with noble's `internal` functions: pure = 0x00 ‖ |ctx| ‖ ctx ‖ M; pre-hash =
 *   0x01 ‖ |ctx| ‖ ctx ‖ OID(PH) ‖ PH(M). Building M′ here (instead of noble's `prehash`, which
 *   refuses hashes weaker than the parameter set, e.g. SHA2-224 with ML-DSA-44) accepts every
 *   pre-hash the TSB names, as the HSM does. Signing is hedged (fresh randomness) unless a test asks
 *   for the deterministic variant.
 * - ML_DSA_M: the message is µ (64 bytes), signed and verified with noble's `externalMu`.
 * - pq-node-sign / pq-node-verify: pure SLH-DSA with a node KeyObject (signatures-pq-node.ts).
 * - rsa-decrypt: the RSA decryption of the encrypt and unwrap operations (ciphers-rsa.ts).
 * - dsa-sign-digest / dsa-verify-digest: NONE_WITH_DSA (dsa-digest.ts).
 * - dsa-domain-problem: the domain check of an imported or generated DSA key (mechanisms/dsa-domain-ahead.ts).
 * - BLS: min-pk (48-byte G1 public keys, 96-byte compressed G2 signatures) with the proof-of-
 *   possession ciphersuite DST `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` (RFC 9380 hash to
 *   G2), the one Ethereum's consensus layer uses: signatures verify with eth2 tooling.
 */
import {
  constants,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  privateEncrypt,
} from 'node:crypto';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { sha3_224, sha3_256, sha3_384, sha3_512, shake128, shake256 } from '@noble/hashes/sha3.js';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { TsbError } from '../../errors.js';
import type { MlDsaAlgorithm, SlhDsaAlgorithm } from '../algorithms.js';
import { type RsaScheme, rsaDecryptBlock } from '../ciphers/rsa-block-decryption.js';
import { SLH_DSA } from '../mechanisms/slh-dsa-params.js';
import {
  type DsaParams,
  dsaDomainProblem,
  dsaPrivateKey,
  dsaSignDigest,
  dsaVerifyDigest,
} from './dsa-digest.js';
import type { RS } from './signature-encoding.js';

export const BLS_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';

const ML_DSA = { 'ML-DSA-44': ml_dsa44, 'ML-DSA-65': ml_dsa65, 'ML-DSA-87': ml_dsa87 } as const;

/** The pre-hashes of HashML-DSA / HashSLH-DSA: the function and the DER OID (2.16.840.1.101.3.4.2.x). */
export type PreHash =
  | 'sha224'
  | 'sha256'
  | 'sha384'
  | 'sha512'
  | 'sha3-224'
  | 'sha3-256'
  | 'sha3-384'
  | 'sha3-512'
  | 'shake128'
  | 'shake256';

const PRE_HASHES: Record<PreHash, { arc: number; digest: (message: Uint8Array) => Uint8Array }> = {
  sha256: { arc: 1, digest: (m) => sha256(m) },
  sha384: { arc: 2, digest: (m) => sha384(m) },
  sha512: { arc: 3, digest: (m) => sha512(m) },
  sha224: { arc: 4, digest: (m) => sha224(m) },
  'sha3-224': { arc: 7, digest: (m) => sha3_224(m) },
  'sha3-256': { arc: 8, digest: (m) => sha3_256(m) },
  'sha3-384': { arc: 9, digest: (m) => sha3_384(m) },
  'sha3-512': { arc: 10, digest: (m) => sha3_512(m) },
  // RFC 8702 / FIPS 204 §5.4.1: SHAKE128 with 256-bit output, SHAKE256 with 512-bit output
  shake128: { arc: 11, digest: (m) => shake128(m, { dkLen: 32 }) },
  shake256: { arc: 12, digest: (m) => shake256(m, { dkLen: 64 }) },
};

const NIST_HASH_OID_PREFIX = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];

/** M′ of FIPS 204 Algorithms 2/4 and FIPS 205 Algorithms 22/23. */
export function formatMessage(message: Uint8Array, context: Uint8Array, preHash: PreHash | null): Uint8Array {
  if (context.length > 255) throw new RangeError('the context is longer than 255 bytes');
  if (preHash === null) return Buffer.concat([Buffer.of(0, context.length), context, message]);
  const { arc, digest } = PRE_HASHES[preHash];
  return Buffer.concat([
    Buffer.of(1, context.length),
    context,
    Buffer.from([...NIST_HASH_OID_PREFIX, arc]),
    digest(message),
  ]);
}

interface PqCommon {
  message: Uint8Array;
  context: Uint8Array;
  preHash: PreHash | null;
}

export type NobleTask =
  | ({
      op: 'ml-dsa-sign';
      algorithm: MlDsaAlgorithm;
      secretKey: Uint8Array;
      externalMu: boolean;
      deterministic?: boolean;
    } & PqCommon)
  | ({
      op: 'ml-dsa-verify';
      algorithm: MlDsaAlgorithm;
      publicKey: Uint8Array;
      signature: Uint8Array;
      externalMu: boolean;
    } & PqCommon)
  | ({
      op: 'slh-dsa-sign';
      algorithm: SlhDsaAlgorithm;
      secretKey: Uint8Array;
      deterministic?: boolean;
    } & PqCommon)
  | ({
      op: 'slh-dsa-verify';
      algorithm: SlhDsaAlgorithm;
      publicKey: Uint8Array;
      signature: Uint8Array;
    } & PqCommon)
  | { op: 'bls-sign'; secretKey: Uint8Array; message: Uint8Array }
  | { op: 'bls-verify'; publicKey: Uint8Array; signature: Uint8Array; message: Uint8Array }
  /** pure SLH-DSA through node:crypto (signatures-pq-node.ts) */
  | { op: 'pq-node-sign'; key: KeyObject; message: Uint8Array; context: Uint8Array }
  | { op: 'pq-node-verify'; key: KeyObject; message: Uint8Array; context: Uint8Array; signature: Uint8Array }
  /** RSA private-key operation on a prepared block (PKCS#1 type 1 padding or none) */
  | { op: 'rsa-private'; key: KeyObject; padding: 'pkcs1' | 'none'; data: Uint8Array }
  /** RSA decryption of a modulus-length block (ciphers-rsa.ts) */
  | { op: 'rsa-decrypt'; key: KeyObject; scheme: RsaScheme; data: Uint8Array }
  /**
   * NONE_WITH_DSA signature (dsa-digest.ts: g^k by OpenSSL, 2–3 ms for 2048–3072-bit p here): (r, s), or null
   * when the key's domain parameters cannot sign (dsa-digest.ts's HSM_INTEGRITY)
   */
  | { op: 'dsa-sign-digest'; key: KeyObject; digest: Uint8Array }
  /** NONE_WITH_DSA verification (dsa-digest.ts: BigInt exponentiations, 7–10 ms for 2048–3072-bit p here) */
  | { op: 'dsa-verify-digest'; key: DsaParams & { y: bigint }; digest: Uint8Array; r: bigint; s: bigint }
  /** dsaDomainProblem (5–11 ms for a 3,072-bit p here): its answer, a reason or null */
  | { op: 'dsa-domain-problem'; key: DsaParams & { y: bigint } };

export type NobleResult = Uint8Array | boolean | string | null | RS;

/** Verifications answer false for anything malformed; signing errors propagate. */
function verifying(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

const BLS = bls12_381.longSignatures;
/** compressed G2 point */
const BLS_SIGNATURE_LENGTH = 96;

/** Runs one task on the calling thread. */
export function runNobleTask(task: NobleTask): NobleResult {
  switch (task.op) {
    case 'ml-dsa-sign': {
      const impl = ML_DSA[task.algorithm].internal;
      const extraEntropy = task.deterministic ? (false as const) : undefined;
      if (task.externalMu) return impl.sign(task.message, task.secretKey, { externalMu: true, extraEntropy });
      return impl.sign(formatMessage(task.message, task.context, task.preHash), task.secretKey, {
        extraEntropy,
      });
    }
    case 'ml-dsa-verify':
      return verifying(() => {
        const impl = ML_DSA[task.algorithm].internal;
        if (task.externalMu)
          return impl.verify(task.signature, task.message, task.publicKey, { externalMu: true });
        return impl.verify(
          task.signature,
          formatMessage(task.message, task.context, task.preHash),
          task.publicKey,
        );
      });
    case 'slh-dsa-sign': {
      const impl = SLH_DSA[task.algorithm].internal;
      const extraEntropy = task.deterministic ? (false as const) : undefined;
      return impl.sign(formatMessage(task.message, task.context, task.preHash), task.secretKey, {
        extraEntropy,
      });
    }
    case 'slh-dsa-verify':
      return verifying(() =>
        SLH_DSA[task.algorithm].internal.verify(
          task.signature,
          formatMessage(task.message, task.context, task.preHash),
          task.publicKey,
        ),
      );
    case 'bls-sign':
      return BLS.sign(BLS.hash(task.message, BLS_DST), task.secretKey).toBytes(true);
    case 'bls-verify':
      return verifying(() => {
        if (task.signature.length !== BLS_SIGNATURE_LENGTH) return false;
        // copies: noble's point decoding may clear flag bits in place (a Buffer's slice is a view)
        return BLS.verify(
          new Uint8Array(task.signature),
          BLS.hash(task.message, BLS_DST),
          new Uint8Array(task.publicKey),
        );
      });
    case 'pq-node-sign':
      return new Uint8Array(nodeSign(null, task.message, { key: task.key, context: task.context }));
    case 'pq-node-verify':
      return verifying(() =>
        nodeVerify(null, task.message, { key: task.key, context: task.context }, task.signature),
      );
    case 'dsa-sign-digest':
      try {
        return dsaSignDigest(dsaPrivateKey(task.key), task.digest);
      } catch (error) {
        if (error instanceof TsbError) return null;
        throw error;
      }
    case 'dsa-verify-digest':
      return verifying(() => dsaVerifyDigest(task.key, task.digest, { r: task.r, s: task.s }));
    case 'dsa-domain-problem':
      return dsaDomainProblem(task.key);
    case 'rsa-decrypt':
      return new Uint8Array(rsaDecryptBlock(task.key, task.scheme, task.data));
    case 'rsa-private':
      return new Uint8Array(
        privateEncrypt(
          {
            key: task.key,
            padding: task.padding === 'pkcs1' ? constants.RSA_PKCS1_PADDING : constants.RSA_NO_PADDING,
          },
          task.data,
        ),
      );
  }
}
