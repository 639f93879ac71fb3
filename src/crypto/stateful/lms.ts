/**
 * HSS/LMS (RFC 8554, NIST SP 800-208) as stateful schemes: one per parameter set of lms-params.ts.
 * Key generation and signing run in the LMS worker threads; verification on the calling thread.
 */
import { randomBytes } from 'node:crypto';
import {
  assemblePrivateKey,
  checkParameterSet,
  encodePrivateKey,
  hssPublicKey,
  hssSignatureIndex,
  hssVerify,
  maxSignatures,
} from './hss.js';
import { HSS_PARAMETER_SETS, type HssParameterSet, hssSignatureLength } from './lms-params.js';
import { runInLmsPool } from './lms-pool.js';
import { subtreeHeight } from './lms-tree.js';
import type { StatefulScheme } from './stateful-scheme.js';

function hssScheme(set: HssParameterSet): StatefulScheme {
  checkParameterSet(set);
  const top = set.levels[0]!;
  const subtrees = 2 ** (top.lms.h - subtreeHeight(top));
  return {
    name: set.name,
    family: 'HSS-LMS',
    maxSignatures: maxSignatures(set.levels),
    signatureLength: hssSignatureLength(set.levels),
    async generate() {
      const seeds = { I: randomBytes(16), seed: randomBytes(32) };
      const { h } = top.lms;
      const { w } = top.ots;
      const roots = await Promise.all(
        Array.from({ length: subtrees }, (_, j) => runInLmsPool({ kind: 'subtreeRoot', h, w, ...seeds, j })),
      );
      const key = assemblePrivateKey(set.levels, seeds, roots);
      return { privateKey: encodePrivateKey(key), publicKey: hssPublicKey(key) };
    },
    sign: (privateKey, index, message) => {
      if (!Number.isSafeInteger(index) || index < 0 || index >= maxSignatures(set.levels))
        return Promise.reject(new Error(`${set.name}: signature index ${index} out of range`));
      return runInLmsPool({ kind: 'sign', privateKey, index, message });
    },
    verify: (publicKey, message, signature) => hssVerify(publicKey, message, signature),
    indexOf: (signature) => hssSignatureIndex(signature),
  };
}

export const LMS_SCHEMES: readonly StatefulScheme[] = HSS_PARAMETER_SETS.map(hssScheme);
