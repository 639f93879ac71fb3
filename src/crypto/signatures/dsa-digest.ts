/**
 * DSA over a digest the caller computed (NONE_WITH_DSA), which node:crypto cannot do: it hashes
 * whatever it is given. FIPS 186-4 §4.6, k by B.2.2 (testing candidates).
 *
 * Side channels when signing. The nonce k must stay secret: a few leaked bits of k per signature
 * over many signatures give away the key x (lattice attacks). So:
 * - g^k mod p, the long computation on k, runs in OpenSSL: a DH private key holding k' = k + q or
 *   k + 2q (g has order q, so g^k' = g^k) with the "peer" public value g gives the shared secret
 *   g^k' mod p, computed by BN_mod_exp_mont_consttime (OpenSSL flags DH private keys
 *   BN_FLG_CONSTTIME). k' always has |q| + 1 bits, so the ladder's length does not depend on k
 *   (OpenSSL's own DSA does the same); k' is formed on bytes with masks, not branches.
 * - The rest is JS BigInt arithmetic, which promises nothing about timing (V8 picks algorithms by
 *   operand length, division has data-dependent steps, values cannot be wiped). It sees k and x
 *   only blinded by a fresh uniform b: s = (k·b)⁻¹ · (b·z + (b·x)·r) mod q = k⁻¹ · (z + x·r). k·b
 *   and b·x are uniform and independent of k and x, so inverting and summing them leaks nothing
 *   useful; the two products k·b and b·x depend on k and x only through their limb counts.
 * - k and b are |q| random bits retried until in [1, q − 1]: uniform, and how often the loop
 *   runs depends only on rejected candidates. They become BigInts without a parse that skips
 *   leading zeros. Our byte buffers that held k are zeroed (node's internal copies and the
 *   BigInts are not under our control).
 * Verification handles public values only and uses plain BigInt arithmetic.
 */
import {
  checkPrimeSync,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { TsbError } from '../../errors.js';
import { children, decode, integer, readInteger, sequence, TAG, tlv } from '../der.js';
import { algorithmIdentifier, decodePkcs8, decodeSpki, encodePkcs8, encodeSpki } from '../spki-pkcs8.js';
import { type RS, toBigInt, toBytes } from './signature-encoding.js';

/** PKCS #3 dhKeyAgreement: parameters { p, g } only, so OpenSSL checks no more than the range. */
const DH_KEY_AGREEMENT = '1.2.840.113549.1.3.1';

export interface DsaParams {
  p: bigint;
  q: bigint;
  g: bigint;
  /** byte width of q (r and s in RAW form) */
  width: number;
}

interface DsaPrivate extends DsaParams {
  x: bigint;
  qBits: number;
  /** the DH AlgorithmIdentifier over (p, g) for the nonce key */
  dhAlgorithm: Buffer;
  /** g as a DH public key: the base of g^k */
  dhGenerator: KeyObject;
}

/** Variable-time square-and-multiply: only for public exponents. */
function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

/** a⁻¹ mod q (q prime) by Fermat; the exponent q − 2 is public. */
const invert = (a: bigint, q: bigint): bigint => modPow(a, q - 2n, q);

function readDsaParams(parameters: Buffer | null): DsaParams {
  if (!parameters) throw new Error('no DSA parameters');
  const [p, q, g] = children(decode(parameters)).map(readInteger) as [bigint, bigint, bigint];
  return { p, q, g, width: Math.ceil(q.toString(16).length / 2) };
}

const dsaPrivate = new WeakMap<KeyObject, DsaPrivate>();
const dsaPublic = new WeakMap<KeyObject, DsaParams & { y: bigint }>();

export function dsaPrivateKey(key: KeyObject): DsaPrivate {
  let found = dsaPrivate.get(key);
  if (!found) {
    try {
      const info = decodePkcs8(key.export({ type: 'pkcs8', format: 'der' }));
      const params = readDsaParams(info.algorithm.parameters);
      const dhAlgorithm = algorithmIdentifier(
        DH_KEY_AGREEMENT,
        sequence(integer(params.p), integer(params.g)),
      );
      found = {
        ...params,
        x: readInteger(decode(info.privateKey)),
        qBits: params.q.toString(2).length,
        dhAlgorithm,
        dhGenerator: createPublicKey({
          key: encodeSpki(dhAlgorithm, integer(params.g)),
          format: 'der',
          type: 'spki',
        }),
      };
    } catch {
      throw new TsbError('HSM_INTEGRITY', 'the DSA private key could not be read');
    }
    dsaPrivate.set(key, found);
  }
  return found;
}

export function dsaPublicKey(key: KeyObject): DsaParams & { y: bigint } {
  let found = dsaPublic.get(key);
  if (!found) {
    const info = decodeSpki(key.export({ type: 'spki', format: 'der' }));
    found = { ...readDsaParams(info.algorithm.parameters), y: readInteger(decode(info.publicKey)) };
    dsaPublic.set(key, found);
  }
  return found;
}

/** The leftmost min(N, outlen) bits of the digest as an integer (FIPS 186-4 §4.6). */
function dsaDigestInteger(digest: Uint8Array, q: bigint): bigint {
  const qBits = q.toString(2).length;
  const z = toBigInt(digest);
  const excess = digest.length * 8 - qBits;
  return excess > 0 ? z >> BigInt(excess) : z;
}

/**
 * A secret's bytes as a BigInt. A fixed leading 1 digit, subtracted again, keeps the parser from
 * skipping the secret's own leading zeros (whose count would show in its timing).
 */
const secretInteger = (bytes: Buffer): bigint =>
  BigInt(`0x1${bytes.toString('hex')}`) - (1n << BigInt(bytes.length * 8));

/**
 * Tries of the random draws below. With the parameters import accepts (dsaDomainProblem) a try fails with
 * probability below 1/2 (k out of range) or about 2^-159 (r or s zero), so a valid key never gets that far;
 * a key of other parameters (q = 1, or q = 2 and a digest that makes s zero) never succeeds, and without the
 * bound its signing would hold the thread for good (OpenSSL's own DSA stops after a few tries too).
 */
const MAX_TRIES = 256;

export const cannotSign = () =>
  new TsbError(
    'HSM_INTEGRITY',
    'the DSA key cannot sign: its domain parameters are not valid DSA parameters',
  );

/** A uniform integer in [1, q − 1] as |q| random bits, retried until in range (FIPS 186-4 B.2.2). */
function randomScalar(q: bigint, qBits: number): Buffer {
  const bytes = Math.ceil(qBits / 8);
  const topMask = 0xff >> (bytes * 8 - qBits);
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const candidate = randomBytes(bytes);
    candidate[0]! &= topMask;
    const value = secretInteger(candidate);
    if (value > 0n && value < q) return candidate;
    candidate.fill(0);
  }
  throw cannotSign();
}

/** a + b over big-endian byte strings of one length, without branches on the values. */
function addBytes(a: Uint8Array, b: Uint8Array): Buffer {
  const sum = Buffer.alloc(a.length);
  let carry = 0;
  for (let i = a.length - 1; i >= 0; i--) {
    const digit = a[i]! + b[i]! + carry;
    sum[i] = digit & 0xff;
    carry = digit >> 8;
  }
  return sum;
}

/**
 * The DER INTEGER of k' = k + q or k + 2q, whichever has exactly |q| + 1 bits (one of them does),
 * chosen by masking: the exponent OpenSSL sees has the same length whatever k is.
 */
export function nonceExponent(key: DsaPrivate, k: Uint8Array): Buffer {
  const { qBits } = key;
  const width = Math.ceil((qBits + 2) / 8);
  const padded = Buffer.alloc(width);
  padded.set(k, width - k.length);
  const qBytes = toBytes(key.q, width);
  const once = addBytes(padded, qBytes);
  const twice = addBytes(once, qBytes);
  const bit = (once[width - 1 - (qBits >> 3)]! >> (qBits & 7)) & 1;
  const mask = -bit & 0xff;
  const chosen = Buffer.alloc(width);
  for (let i = 0; i < width; i++) chosen[i] = (once[i]! & mask) | (twice[i]! & ~mask & 0xff);
  // minimal DER: |q| + 1 bits, plus a zero byte when that top bit starts a byte
  const length = Math.ceil((qBits + 1) / 8) + ((qBits + 1) % 8 === 0 ? 1 : 0);
  const der = tlv(TAG.INTEGER, chosen.subarray(width - length));
  for (const bytes of [padded, once, twice, chosen]) bytes.fill(0);
  return der;
}

/** g^k mod p by OpenSSL's constant-time exponentiation (see the file comment). */
function generatorPower(key: DsaPrivate, k: Uint8Array): bigint {
  const exponent = nonceExponent(key, k);
  const der = encodePkcs8(key.dhAlgorithm, exponent);
  exponent.fill(0);
  try {
    const nonceKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    return toBigInt(diffieHellman({ privateKey: nonceKey, publicKey: key.dhGenerator }));
  } finally {
    der.fill(0);
  }
}

/** DSA over a given digest (NONE_WITH_DSA): a fresh random k per signature. */
export function dsaSignDigest(key: DsaPrivate, digest: Uint8Array): RS {
  const { q, x, qBits } = key;
  const z = dsaDigestInteger(digest, q);
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const kBytes = randomScalar(q, qBits);
    const r = generatorPower(key, kBytes) % q;
    const k = secretInteger(kBytes);
    kBytes.fill(0);
    if (r === 0n) continue;
    const b = secretInteger(randomScalar(q, qBits));
    const kbInverse = invert((k * b) % q, q);
    const s = (kbInverse * (((b * z) % q) + ((((b * x) % q) * r) % q))) % q;
    if (s !== 0n) return { r, s };
  }
  throw cannotSign();
}

/** The bit lengths of q that FIPS 186-4 §4.2 allows (N of (L, N)). */
export const DSA_Q_BITS = [160, 224, 256] as const;

/**
 * Why a DSA public key (its domain parameters and y) is not one DSA can sign and verify with, or null, for a
 * q of N bits (DSA_Q_BITS, which the caller checks first, as 603): q prime and dividing p − 1, g and y of order
 * q in Z_p* (FIPS 186-4 A.2.2,
 * SP 800-89 §5.3.1: 1 < g < p, g^q = 1; 1 < y < p − 1, y^q = 1, which also refuses x ≡ 0 mod q). OpenSSL
 * reads keys of any (p, q, g), and signing needs these: NONE_WITH_DSA draws k in [1, q − 1] and takes g^(k+q)
 * for g^k. p is not tested for primality (over a second for 3072 bits); a composite p weakens only the key
 * of whoever made it. Public values only: the arithmetic is variable-time.
 */
export function dsaDomainProblem(key: DsaParams & { y: bigint }): string | null {
  const { p, q, g, y } = key;
  if (!checkPrimeSync(q)) return 'q is not prime';
  if (p <= q || (p - 1n) % q !== 0n) return 'q does not divide p − 1';
  if (g <= 1n || g >= p || modPow(g, q, p) !== 1n) return 'g is not of order q';
  if (y <= 1n || y >= p - 1n || modPow(y, q, p) !== 1n) return 'the public value y is not of order q';
  return null;
}

export function dsaVerifyDigest(key: DsaParams & { y: bigint }, digest: Uint8Array, { r, s }: RS): boolean {
  const { p, q, g, y } = key;
  if (r <= 0n || r >= q || s <= 0n || s >= q) return false;
  const w = invert(s, q);
  const z = dsaDigestInteger(digest, q);
  const u1 = (z * w) % q;
  const u2 = (r * w) % q;
  return ((modPow(g, u1, p) * modPow(y, u2, p)) % p) % q === r;
}
