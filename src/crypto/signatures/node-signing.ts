/** node:crypto sign and verify in their callback form, so that the work runs on libuv's thread pool. */
import { sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { eventLoopHasSpareTime } from './event-loop-load.js';
import type { SignatureAlgorithm } from './signature-algorithms.js';

export const nodeSignAsync = (
  hash: string | null,
  data: Buffer,
  key: Parameters<typeof nodeSign>[2],
): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    nodeSign(hash, data, key, (error, signature) => (error ? reject(error) : resolve(signature)));
  });

/**
 * A signature that takes tens of microseconds (Ed25519, ECDSA on P-256 and secp256k1): made on the calling
 * thread while its event loop has time to spare, where the thread pool's two hand-offs cost more than the
 * signature (bench, c=1: p50 0.74 → 0.68 ms, 505 → 429 µs CPU per request), and in the thread pool once the
 * loop is busy, which takes the work off the thread that is then the limit (c=64: 6.6k req/s on the
 * calling thread against 7.7k in the pool).
 */
export const nodeSignCheap = (
  hash: string | null,
  data: Buffer,
  key: Parameters<typeof nodeSign>[2],
): Promise<Buffer> => {
  if (!eventLoopHasSpareTime()) return nodeSignAsync(hash, data, key);
  try {
    return Promise.resolve(nodeSign(hash, data, key));
  } catch (error) {
    return Promise.reject(error);
  }
};

export const nodeVerifyAsync = (
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

export const nodeHashName = (hash: SignatureAlgorithm['hash']): string => hash; // sha1, sha224…, sha3-256…
