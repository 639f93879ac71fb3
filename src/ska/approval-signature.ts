/**
 * Verification of approver signatures (reference §4.2, §4.5): what Java `Signature.sign()` gives for
 * the approver key with the named digest. RSA → PKCS#1 v1.5, EC → ECDSA (DER, or raw r‖s), Ed25519 →
 * pure EdDSA, ML-DSA (OpenTSB extension) → pure ML-DSA with an empty context. For Ed25519 and ML-DSA
 * the digest name only has to be acceptable: the algorithm hashes internally.
 */
import { createPublicKey, constants as cryptoConstants, type KeyObject, verify } from 'node:crypto';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';
import { nodeVerifyCheap } from '../crypto/signatures/node-signing.js';
import type { LaneVerifyKey } from '../crypto/signatures/signing-lane.js';
import { VerifiedSignatures } from '../crypto/signatures/verified-signatures.js';
import { decodeSpki } from '../crypto/spki-pkcs8.js';
import { TsbError } from '../errors.js';
import { BoundedTtlCache } from '../lib/ttl-cache.js';
import type { ApproverKeyInfo } from './approver-key.js';

const REJECTION_PREFIX = Buffer.from('REJECT:', 'ascii');

/** What a rejecting approver signs: ASCII "REJECT:" followed by the request's challenge bytes. */
export function rejectionToBeSigned(challenge: Uint8Array): Buffer {
  return Buffer.concat([REJECTION_PREFIX, challenge]);
}

export const APPROVAL_DIGEST_ALGORITHMS: readonly string[] = [
  'SHA-224',
  'SHA-256',
  'SHA-384',
  'SHA-512',
  'SHA3-224',
  'SHA3-256',
  'SHA3-384',
  'SHA3-512',
  'EdDSA',
  'ML-DSA',
];

/** node:crypto digest names of the SHA family entries of {@link APPROVAL_DIGEST_ALGORITHMS}. */
const NODE_DIGESTS: Readonly<Record<string, string>> = {
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA3-224': 'sha3-224',
  'SHA3-256': 'sha3-256',
  'SHA3-384': 'sha3-384',
  'SHA3-512': 'sha3-512',
};

/** Bytes of one ECDSA signature half (r or s) per approver curve. */
const EC_FIELD_BYTES: Readonly<Record<string, number>> = {
  'P-256': 32,
  'P-384': 48,
  'P-521': 66,
  secp256k1: 32,
};

const ML_DSA = { 'ML-DSA-44': ml_dsa44, 'ML-DSA-65': ml_dsa65, 'ML-DSA-87': ml_dsa87 } as const;

/**
 * The canonical spelling (an entry of {@link APPROVAL_DIGEST_ALGORITHMS}) of a digest name, matched
 * case-insensitively and ignoring '-' and '_' ('sha256', 'SHA3_256', 'eddsa'). Throws 600 when unknown.
 */
export function canonicalDigestAlgorithm(name: string): string {
  const wanted = squash(String(name));
  const match = APPROVAL_DIGEST_ALGORITHMS.find((candidate) => squash(candidate) === wanted);
  if (!match) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `digest algorithm "${name}" is not supported (accepted: ${APPROVAL_DIGEST_ALGORITHMS.join(', ')})`,
    );
  }
  return match;
}

/** An approval is verified when it arrives and again by the HSM's gate before the operation runs. */
const verifiedApprovals = new VerifiedSignatures(8192);

/** One node:crypto verification to try: a signature is valid when any attempt verifies. */
interface Attempt {
  hash: string | null;
  key: LaneVerifyKey;
}

/**
 * How a signature of this approver with this digest is verified: node:crypto attempts, or (ML-DSA, attempts
 * null) noble.
 * An unknown digest name, or one that cannot go with the key type (EdDSA for an RSA key), is a TsbError 600.
 */
function verification(
  approver: ApproverKeyInfo,
  signature: Uint8Array,
  digestAlgorithm: string,
): { digest: string; attempts: readonly Attempt[] | null } {
  const digest = canonicalDigestAlgorithm(digestAlgorithm);
  const nodeDigest = NODE_DIGESTS[digest];
  switch (approver.keyType) {
    case 'RSA': {
      const key = { key: publicKey(approver), padding: cryptoConstants.RSA_PKCS1_PADDING };
      return { digest, attempts: [{ hash: requireShaDigest(nodeDigest, digest, approver), key }] };
    }
    case 'EC': {
      // DER (what Java returns) is node's default for an EC key, and a bare KeyObject is ~15 µs cheaper than
      // an options object; raw r‖s of exactly twice the field size is accepted too
      const hash = requireShaDigest(nodeDigest, digest, approver);
      const key = publicKey(approver);
      const raw = signature.length === 2 * (EC_FIELD_BYTES[approver.keyAlgorithm] ?? 0);
      return {
        digest,
        attempts: raw
          ? [
              { hash, key },
              { hash, key: { key, dsaEncoding: 'ieee-p1363' } },
            ]
          : [{ hash, key }],
      };
    }
    case 'ED':
      requireOneShotDigest(digest, 'EdDSA', approver);
      return { digest, attempts: [{ hash: null, key: publicKey(approver) }] };
    case 'ML-DSA':
      requireOneShotDigest(digest, 'ML-DSA', approver);
      return { digest, attempts: null };
  }
}

/**
 * True when `signature` is the approver's signature over `data`. A wrong or malformed signature gives
 * false; an unknown digest name, or one that cannot go with the key type (EdDSA for an RSA key), is a
 * TsbError 600.
 */
export function verifyApproverSignature(
  approver: ApproverKeyInfo,
  data: Uint8Array,
  signature: Uint8Array,
  digestAlgorithm: string,
): boolean {
  const { digest, attempts } = verification(approver, signature, digestAlgorithm);
  return verifiedApprovals.check(approver.spki, digest, data, signature, () =>
    attempts
      ? attempts.some(({ hash, key }) => safely(() => verify(hash, data, key, signature)))
      : verifyMlDsa(approver, data, signature),
  );
}

/**
 * {@link verifyApproverSignature} for the request path: under load the node:crypto verification runs in
 * the signing lane's worker thread instead of on the event loop (sign-placement.ts decides, as for cheap
 * signatures).
 */
export async function verifyApproverSignatureAsync(
  approver: ApproverKeyInfo,
  data: Uint8Array,
  signature: Uint8Array,
  digestAlgorithm: string,
): Promise<boolean> {
  const { digest, attempts } = verification(approver, signature, digestAlgorithm);
  return verifiedApprovals.checkAsync(approver.spki, digest, data, signature, async () => {
    if (!attempts) return verifyMlDsa(approver, data, signature);
    for (const { hash, key } of attempts) if (await nodeVerifyCheap(hash, data, key, signature)) return true;
    return false;
  });
}

function verifyMlDsa(approver: ApproverKeyInfo, data: Uint8Array, signature: Uint8Array): boolean {
  const implementation = ML_DSA[approver.keyAlgorithm as keyof typeof ML_DSA];
  if (!implementation) return false;
  return safely(() => implementation.verify(signature, data, decodeSpki(approver.spki).publicKey));
}

function requireShaDigest(nodeDigest: string | undefined, digest: string, approver: ApproverKeyInfo): string {
  if (nodeDigest) return nodeDigest;
  throw mismatch(digest, approver);
}

/** EdDSA and ML-DSA hash internally: their own name or any SHA name is accepted and ignored. */
function requireOneShotDigest(digest: string, own: string, approver: ApproverKeyInfo): void {
  if (digest !== own && !NODE_DIGESTS[digest]) throw mismatch(digest, approver);
}

const mismatch = (digest: string, approver: ApproverKeyInfo): TsbError =>
  new TsbError(
    'INPUT_VALIDATION_FAILED',
    `digest algorithm ${digest} does not fit the ${approver.keyAlgorithm} approver key`,
  );

/** Parsed approver keys by fingerprint: approvers sign again and again, parsing costs more than verifying. */
const publicKeys = new BoundedTtlCache<KeyObject>(4096);

const publicKey = (approver: ApproverKeyInfo): KeyObject =>
  publicKeys.getOrSet(approver.fingerprint, () =>
    createPublicKey({ key: approver.spki, format: 'der', type: 'spki' }),
  );

/** Malformed signature bytes make node:crypto and noble throw; for us they are just a bad signature. */
function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

const squash = (name: string): string => name.toUpperCase().replace(/[-_]/g, '');
