/**
 * Worker thread of the key generation pool (worker-pool.ts): runs slow SLH-DSA key generations off
 * the event loop. Message in: `{ id, algorithm, seed }`; out: `{ id, secretKey, publicKey }` or `{ id, error }`.
 */
import { parentPort } from 'node:worker_threads';
import type { SlhDsaAlgorithm } from '../algorithms.js';
import { slhDsaKeygen } from './slh-dsa-params.js';

interface Job {
  id: number;
  algorithm: SlhDsaAlgorithm;
  seed: Uint8Array;
}

parentPort?.on('message', (job: Job) => {
  try {
    const { secretKey, publicKey } = slhDsaKeygen(job.algorithm, job.seed);
    parentPort?.postMessage({ id: job.id, secretKey, publicKey });
  } catch (error) {
    parentPort?.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) });
  }
});
parentPort?.postMessage({ ready: true });
