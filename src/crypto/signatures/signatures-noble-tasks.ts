/** The worker pool tasks (signatures-noble.ts) of the ML-DSA, SLH-DSA and BLS keys. */
import { isMlDsa, isSlhDsa } from '../algorithms.js';
import type { ReadyKey } from '../mechanisms/key-material.js';
import type { ReadyPublicKey } from '../mechanisms/public-keys.js';
import type { SignatureAlgorithm } from './signature-algorithms.js';
import { notForKey, type Prepared } from './signature-request.js';
import type { NobleTask, PreHash } from './signatures-noble.js';

const preHashOf = (algorithm: SignatureAlgorithm): PreHash | null =>
  algorithm.hash === 'none' ? null : (algorithm.hash as PreHash);

export function nobleSignTask(
  key: ReadyKey & { kind: 'noble' },
  prepared: Prepared,
  payload: Buffer,
): NobleTask {
  const { algorithm, context } = prepared;
  const common = { message: payload, context, preHash: preHashOf(algorithm) };
  if (key.algorithm === 'BLS') return { op: 'bls-sign', secretKey: key.secretKey, message: payload };
  if (isMlDsa(key.algorithm)) {
    return {
      op: 'ml-dsa-sign',
      algorithm: key.algorithm,
      secretKey: key.secretKey,
      externalMu: algorithm.externalMu,
      ...common,
    };
  }
  if (isSlhDsa(key.algorithm))
    return { op: 'slh-dsa-sign', algorithm: key.algorithm, secretKey: key.secretKey, ...common };
  throw notForKey(`${key.algorithm} keys cannot sign`);
}

export function nobleVerifyTask(
  key: ReadyPublicKey & { kind: 'noble' },
  prepared: Prepared,
  payload: Buffer,
  signature: Buffer,
): NobleTask {
  const { algorithm, context } = prepared;
  const common = {
    message: payload,
    context,
    preHash: preHashOf(algorithm),
    publicKey: key.publicKey,
    signature,
  };
  if (key.algorithm === 'BLS')
    return { op: 'bls-verify', publicKey: key.publicKey, message: payload, signature };
  if (isMlDsa(key.algorithm))
    return { op: 'ml-dsa-verify', algorithm: key.algorithm, externalMu: algorithm.externalMu, ...common };
  if (isSlhDsa(key.algorithm)) return { op: 'slh-dsa-verify', algorithm: key.algorithm, ...common };
  throw notForKey(`${key.algorithm} keys cannot verify signatures`);
}
