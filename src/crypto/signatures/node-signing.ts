/**
 * node:crypto sign and verify in their callback form (the work runs in libuv's thread pool), and cheap
 * signatures, which sign-placement.ts places on the calling thread or in the signing lane (signing-lane.ts).
 */
import { type KeyObject, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { inThreadPoolTurn } from '../../lib/thread-pool-turns.js';
import { signedOnCallingThread, signOnCallingThread } from './sign-placement.js';
import type { SignatureAlgorithm } from './signature-algorithms.js';
import { type LaneVerifyKey, signInLane, verifyInLane } from './signing-lane.js';

export const nodeSignAsync = (
  hash: string | null,
  data: Buffer,
  key: Parameters<typeof nodeSign>[2],
): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    nodeSign(hash, data, key, (error, signature) => (error ? reject(error) : resolve(signature)));
  });

/**
 * `nodeSignAsync` for signatures of milliseconds or more (RSA from 3,072 bits: 34 ms for RSA-8192 here; DSA),
 * handed to libuv in their partition's turn (thread-pool-turns.ts). Cheaper ones (ML-DSA, P-384, RSA-2048, about
 * a millisecond) go straight to libuv: held back, they left its threads idle while the event loop was busy.
 */
export const nodeSignInTurn = (
  hash: string | null,
  data: Buffer,
  key: Parameters<typeof nodeSign>[2],
): Promise<Buffer> => inThreadPoolTurn(() => nodeSignAsync(hash, data, key));

/**
 * Cheap node:crypto work (tens of microseconds) where sign-placement.ts puts it: `here` on the calling thread
 * (timed for the placement), or `pooled` in libuv's thread pool. A throw of `here` becomes a rejection.
 */
function placed<T>(pooled: () => Promise<T>, here: () => T): Promise<T> {
  if (!signOnCallingThread()) return pooled();
  const started = performance.now();
  try {
    return Promise.resolve(here());
  } catch (error) {
    return Promise.reject(error);
  } finally {
    signedOnCallingThread(performance.now() - started);
  }
}

/**
 * A signature of tens of microseconds: on the calling thread or in the signing lane, as sign-placement.ts
 * decides.
 */
export const nodeSignCheap = (hash: string | null, data: Buffer, key: KeyObject): Promise<Buffer> =>
  placed(
    () => signInLane(hash, data, key),
    () => nodeSign(hash, data, key),
  );

export const nodeVerifyAsync = (
  hash: string | null,
  data: Uint8Array,
  key: Parameters<typeof nodeVerify>[2],
  signature: Uint8Array,
): Promise<boolean> =>
  new Promise((resolve) => {
    try {
      nodeVerify(hash, data, key, signature, (error, valid) => resolve(!error && valid));
    } catch {
      resolve(false);
    }
  });

/**
 * A verification of tens of microseconds (an approver's ECDSA, EdDSA or RSA signature): on the calling
 * thread or in the signing lane, as sign-placement.ts decides for cheap signatures. False for an invalid
 * signature and for input node:crypto refuses.
 */
export const nodeVerifyCheap = (
  hash: string | null,
  data: Uint8Array,
  key: LaneVerifyKey,
  signature: Uint8Array,
): Promise<boolean> =>
  placed(
    () => verifyInLane(hash, data, key, signature),
    () => nodeVerify(hash, data, key, signature),
  ).catch(() => false);

export const nodeHashName = (hash: SignatureAlgorithm['hash']): string => hash; // sha1, sha224…, sha3-256…
