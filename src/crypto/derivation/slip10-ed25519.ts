/**
 * SLIP-10 for Ed25519: the master key from a seed (HMAC key "ed25519 seed") and hardened private
 * child derivation. Ed25519 has no public (non-hardened) derivation in SLIP-10: an unhardened step
 * is refused with DERIVATION_NOT_SUPPORTED (634, HTTP 400), as TSB 2.1.0 does.
 *
 * The private key is the 32-byte Ed25519 seed (RFC 8032 private key), which is what PKCS#8 holds;
 * SLIP-10 writes the public key as `0x00 || A` (33 bytes), which also feeds the fingerprints.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { TsbError } from '../../errors.js';
import {
  assertChainCode,
  assertSeed,
  type ExtendedPrivateKey,
  fingerprintOf,
  hmacSha512,
  ser32,
} from './extended-keys.js';
import { formatDerivationPath, HARDENED_OFFSET, MAX_DERIVATION_DEPTH, stepOf } from './path.js';

/** PKCS#8 of an Ed25519 key (RFC 8410) up to its 32-byte private key. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * `0x00 || A`: SLIP-10's ser_P of an Ed25519 key, through node:crypto (OpenSSL): 40 µs where noble took about a
 * millisecond here, once per level of a path.
 */
export function ed25519PublicKeyOf(privateKey: Uint8Array): Buffer {
  if (privateKey.length !== 32) throw new TsbError('HSM_INTEGRITY', 'an Ed25519 private key is 32 bytes');
  const pkcs8 = Buffer.concat([ED25519_PKCS8_PREFIX, privateKey]);
  try {
    const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({
      format: 'der',
      type: 'spki',
    });
    return Buffer.concat([Buffer.of(0), spki.subarray(spki.length - 32)]);
  } finally {
    pkcs8.fill(0);
  }
}

/** The extended key of SLIP-10's I = IL || IR: IL the private key, IR the chain code. */
function extendedKeyOf(
  I: Uint8Array,
  place: Pick<ExtendedPrivateKey, 'depth' | 'parentFingerprint' | 'index'>,
): ExtendedPrivateKey {
  const privateKey = Buffer.from(I.subarray(0, 32));
  return {
    curve: 'ed25519',
    privateKey,
    publicKey: ed25519PublicKeyOf(privateKey),
    chainCode: Buffer.from(I.subarray(32)),
    ...place,
  };
}

export function ed25519MasterKey(seed: Uint8Array): ExtendedPrivateKey {
  assertSeed(seed);
  return extendedKeyOf(hmacSha512('ed25519 seed', seed), { depth: 0, parentFingerprint: 0, index: 0 });
}

/** CKDpriv for Ed25519 (hardened child numbers only). */
export function ed25519DeriveChild(parent: ExtendedPrivateKey, index: number): ExtendedPrivateKey {
  if (parent.curve !== 'ed25519')
    throw new TsbError('DERIVATION_NOT_SUPPORTED', `${parent.curve} is not Ed25519`);
  assertChainCode(parent.chainCode);
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) {
    throw new TsbError('INPUT_VALIDATION_FAILED', `derivation index ${index} is out of range`);
  }
  if (index < HARDENED_OFFSET) {
    throw new TsbError(
      'DERIVATION_NOT_SUPPORTED',
      `Ed25519 keys derive hardened children only (SLIP-10); path element ${formatDerivationPath([stepOf(index)])} is not hardened`,
    );
  }
  if (parent.depth >= MAX_DERIVATION_DEPTH) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `keys can be derived to depth ${MAX_DERIVATION_DEPTH} at most`,
    );
  }
  const I = hmacSha512(parent.chainCode, Buffer.concat([Buffer.of(0), parent.privateKey, ser32(index)]));
  return extendedKeyOf(I, {
    depth: parent.depth + 1,
    parentFingerprint: fingerprintOf(parent.publicKey),
    index,
  });
}
