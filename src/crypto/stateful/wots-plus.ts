import type { XmssAddress } from './xmss-address.js';
import type { XmssHashes } from './xmss-hashes.js';
import type { XmssParams } from './xmss-params.js';

/**
 * WOTS+ (RFC 8391 §3) with the private key derivation of SP 800-208 §5.1: the start of chain i of the
 * one-time key at an OTS address is PRF_keygen(SK_SEED, PUB_SEED ‖ ADRS) with chain i, hash 0 and
 * keyAndMask 0, as the XMSS reference implementation does. A signature or public key is `len`
 * n-byte chain values, one after the other.
 */

/** chain(X, start, steps, ADRS) of RFC 8391 §3.1.2 */
function chain(
  hashes: XmssHashes,
  x: Uint8Array,
  start: number,
  steps: number,
  address: XmssAddress,
): Buffer {
  let value: Buffer = Buffer.from(x);
  for (let step = start; step < start + steps; step++) {
    address.setHash(step);
    value = hashes.f(address, value);
  }
  return value;
}

/** base_w(X, w, outLen) of RFC 8391 §2.6 for w = 16 */
function baseW(input: Uint8Array, outLength: number): number[] {
  const out: number[] = [];
  for (let i = 0; out.length < outLength; i++) {
    const byte = input[i]!;
    out.push(byte >>> 4);
    if (out.length < outLength) out.push(byte & 0x0f);
  }
  return out;
}

/** The number of chain steps of each of the `len` chains that sign the n-byte `digest` (message and checksum). */
export function chainLengths(params: XmssParams, digest: Uint8Array): number[] {
  const message = baseW(digest, params.len1);
  let checksum = 0;
  for (const digit of message) checksum += params.w - 1 - digit;
  const checksumBits = params.len2 * params.logW;
  checksum <<= 8 - (checksumBits % 8);
  const checksumBytes = Buffer.alloc(Math.ceil(checksumBits / 8));
  checksumBytes.writeUIntBE(checksum, 0, checksumBytes.length);
  return [...message, ...baseW(checksumBytes, params.len2)];
}

function chainStart(
  hashes: XmssHashes,
  skSeed: Uint8Array,
  address: XmssAddress,
  chainIndex: number,
): Buffer {
  address.setChain(chainIndex).setHash(0).setKeyAndMask(0);
  return hashes.prfKeygen(skSeed, address);
}

/** The WOTS+ public key of the OTS address `address` (its chain ends) */
export function wotsPublicKey(hashes: XmssHashes, skSeed: Uint8Array, address: XmssAddress): Buffer[] {
  const { len, w } = hashes.params;
  const publicKey: Buffer[] = [];
  for (let i = 0; i < len; i++) {
    const start = chainStart(hashes, skSeed, address, i);
    publicKey.push(chain(hashes, start, 0, w - 1, address.setChain(i)));
  }
  return publicKey;
}

/** The WOTS+ signature of the n-byte `digest`: len · n bytes */
export function wotsSign(
  hashes: XmssHashes,
  digest: Uint8Array,
  skSeed: Uint8Array,
  address: XmssAddress,
): Buffer {
  const lengths = chainLengths(hashes.params, digest);
  return Buffer.concat(
    lengths.map((steps, i) => {
      const start = chainStart(hashes, skSeed, address, i);
      return chain(hashes, start, 0, steps, address.setChain(i));
    }),
  );
}

/** The WOTS+ public key a signature of `digest` implies (RFC 8391 §3.1.6) */
export function wotsPublicKeyFromSignature(
  hashes: XmssHashes,
  signature: Uint8Array,
  digest: Uint8Array,
  address: XmssAddress,
): Buffer[] {
  const { n, w } = hashes.params;
  const lengths = chainLengths(hashes.params, digest);
  return lengths.map((steps, i) => {
    address.setChain(i);
    return chain(hashes, signature.subarray(i * n, (i + 1) * n), steps, w - 1 - steps, address);
  });
}
