/**
 * The key generation pool: 1–2 worker threads for key generations that would block the event loop
 * for more than ~50 ms (the SLH-DSA "s" parameter sets take 0.2–1.5 s in noble). The worker is
 * slh-dsa.worker.ts beside this file.
 */
import { availableParallelism } from 'node:os';
import { WorkerPool, workerModuleUrl } from '../../lib/worker-pool.js';
import type { SlhDsaAlgorithm } from '../algorithms.js';
import { slhDsaKeygen } from './slh-dsa-params.js';

export interface GeneratedPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export interface KeygenTask {
  algorithm: SlhDsaAlgorithm;
  seed: Uint8Array;
}

export const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));

const pool = new WorkerPool<KeygenTask, GeneratedPair>({
  name: 'key generation pool',
  workerUrl: workerModuleUrl(import.meta.url, 'slh-dsa.worker'),
  size: POOL_SIZE,
  fair: true,
  inline: ({ algorithm, seed }) => slhDsaKeygen(algorithm, seed),
  revive: ({ secretKey, publicKey }) => ({
    secretKey: new Uint8Array(secretKey),
    publicKey: new Uint8Array(publicKey),
  }),
});

/** How many generations ran in a worker or inline (for tests and statistics). */
export const keygenPoolStats = () => pool.stats();

/** SLH-DSA key generation from a seed in a worker thread (inline if workers are unavailable). */
export const slhDsaKeygenInWorker = (algorithm: SlhDsaAlgorithm, seed: Uint8Array): Promise<GeneratedPair> =>
  pool.run({ algorithm, seed });

/** Stops the workers (graceful shutdown, tests); the pool restarts lazily on the next job. */
export const shutdownKeygenPool = () => pool.shutdown();
