/**
 * HSS signing with the trees kept: subtrees and the signed lower-tree public keys are cached (bounded,
 * least recently used first out), so consecutive indices cost one LM-OTS signature each and a subtree is
 * computed once per 2^10 signatures. Runs in the LMS worker threads (lms-pool.ts), each with its own cache.
 */
import { type ChildSignatureSource, decodePrivateKey, hssSign, type SubtreeSource } from './hss.js';
import { computeSubtree } from './lms-tree.js';

/** 64 entries: a subtree of height 10 is 64 KiB, so at most ~4 MiB per thread */
const CAPACITY = 64;
const cache = new Map<string, Uint8Array>();

function cached(key: string, make: () => Uint8Array): Uint8Array {
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const value = make();
  cache.set(key, value);
  if (cache.size > CAPACITY) cache.delete(cache.keys().next().value as string);
  return value;
}

/** Subtree j of a tree, from this thread's cache (key generation leaves its subtrees there for signing). */
export const subtrees: SubtreeSource = (level, seeds, j) =>
  cached(`tree:${Buffer.from(seeds.I).toString('hex')}:${level.lms.id}:${level.ots.id}:${j}`, () =>
    computeSubtree(level, seeds, j),
  );

const childSignatures: ChildSignatureSource = (key, make) => cached(`child:${key}`, make);

export function signHss(privateKey: Uint8Array, index: number, message: Uint8Array): Uint8Array {
  return hssSign(decodePrivateKey(privateKey), index, message, subtrees, childSignatures);
}

/** entries in this thread's cache (tests) */
export const signerCacheSize = () => cache.size;
