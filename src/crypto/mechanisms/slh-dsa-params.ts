/**
 * The noble SLH-DSA implementations by TSB algorithm name. Kept free of other project imports so the
 * key generation worker (slh-dsa.worker.ts) loads only this and noble.
 */
import {
  slh_dsa_sha2_128f,
  slh_dsa_sha2_128s,
  slh_dsa_sha2_192f,
  slh_dsa_sha2_192s,
  slh_dsa_sha2_256f,
  slh_dsa_sha2_256s,
  slh_dsa_shake_128f,
  slh_dsa_shake_128s,
  slh_dsa_shake_192f,
  slh_dsa_shake_192s,
  slh_dsa_shake_256f,
  slh_dsa_shake_256s,
} from '@noble/post-quantum/slh-dsa.js';
import type { SlhDsaAlgorithm } from '../algorithms.js';

export const SLH_DSA = {
  'SLH-DSA-SHA2-128s': slh_dsa_sha2_128s,
  'SLH-DSA-SHA2-128f': slh_dsa_sha2_128f,
  'SLH-DSA-SHA2-192s': slh_dsa_sha2_192s,
  'SLH-DSA-SHA2-192f': slh_dsa_sha2_192f,
  'SLH-DSA-SHA2-256s': slh_dsa_sha2_256s,
  'SLH-DSA-SHA2-256f': slh_dsa_sha2_256f,
  'SLH-DSA-SHAKE-128s': slh_dsa_shake_128s,
  'SLH-DSA-SHAKE-128f': slh_dsa_shake_128f,
  'SLH-DSA-SHAKE-192s': slh_dsa_shake_192s,
  'SLH-DSA-SHAKE-192f': slh_dsa_shake_192f,
  'SLH-DSA-SHAKE-256s': slh_dsa_shake_256s,
  'SLH-DSA-SHAKE-256f': slh_dsa_shake_256f,
} as const satisfies Record<SlhDsaAlgorithm, unknown>;

/** Deterministic key generation from the 3n-byte seed SK.seed ‖ SK.prf ‖ PK.seed (FIPS 205 Algorithm 21). */
export function slhDsaKeygen(algorithm: SlhDsaAlgorithm, seed: Uint8Array) {
  const impl = SLH_DSA[algorithm];
  if (!impl) throw new Error(`unknown SLH-DSA parameter set ${String(algorithm)}`);
  return impl.keygen(seed);
}
