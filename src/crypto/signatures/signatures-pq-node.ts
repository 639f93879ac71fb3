/**
 * Pure ML-DSA and SLH-DSA (`ML_DSA`, `SLH_DSA`, with or without a context) through node:crypto, for
 * keys that have a node KeyObject (mechanisms/pq-node-keys.ts). OpenSSL builds M′ itself from the
 * message and the context, as FIPS 204 / 205 define it; HashML-DSA, HashSLH-DSA and ML_DSA_M are not
 * reachable through node:crypto and stay with noble (signatures-noble.ts).
 *
 * - ML-DSA sign (about a millisecond): node's callback form, on libuv's thread pool; verify (well
 *   under a millisecond) in place, as the other node verifications (node-signing.ts).
 * - SLH-DSA sign (tens of milliseconds to seconds) and verify (up to ~10 ms): in the signature worker
 *   pool, so they neither hold the event loop nor libuv's few threads.
 */
import type { KeyObject } from 'node:crypto';
import { isSlhDsa } from '../algorithms.js';
import type { ReadyKey } from '../mechanisms/key-material.js';
import type { ReadyPublicKey } from '../mechanisms/public-keys.js';
import { nodeSignAsync, nodeVerifyAsync } from './node-signing.js';
import type { Prepared } from './signature-request.js';
import { runInWorker } from './signatures-pool.js';

/** The node KeyObject that can make this signature, or null (noble makes it). */
const nodeKeyFor = (node: KeyObject | null | undefined, prepared: Prepared): KeyObject | null =>
  node && prepared.algorithm.hash === 'none' && !prepared.algorithm.externalMu ? node : null;

/** The signature, or null when node:crypto cannot make it for this key and algorithm. */
export async function signPqWithNode(
  key: ReadyKey & { kind: 'noble' },
  prepared: Prepared,
  payload: Buffer,
): Promise<Buffer | null> {
  const nodeKey = nodeKeyFor(key.node?.key, prepared);
  if (!nodeKey) return null;
  const { context } = prepared;
  if (isSlhDsa(key.algorithm)) {
    const signature = await runInWorker({ op: 'pq-node-sign', key: nodeKey, message: payload, context });
    return Buffer.from(signature as Uint8Array);
  }
  return nodeSignAsync(null, payload, { key: nodeKey, context });
}

/** The verdict, or null when node:crypto cannot check this signature for this key and algorithm. */
export async function verifyPqWithNode(
  publicKey: ReadyPublicKey & { kind: 'noble' },
  prepared: Prepared,
  payload: Buffer,
  signature: Buffer,
): Promise<boolean | null> {
  const nodeKey = nodeKeyFor(publicKey.node, prepared);
  if (!nodeKey) return null;
  const { context } = prepared;
  if (isSlhDsa(publicKey.algorithm)) {
    const task = { op: 'pq-node-verify', key: nodeKey, message: payload, context, signature } as const;
    return (await runInWorker(task)) === true;
  }
  return nodeVerifyAsync(null, payload, { key: nodeKey, context }, signature);
}
