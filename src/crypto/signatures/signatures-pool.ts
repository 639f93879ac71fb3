/**
 * The signature pool: worker threads for signature work that would block the event loop for
 * milliseconds: ML-DSA sign/verify (1–9 ms), SLH-DSA (tens of ms to seconds), BLS (15–35 ms), the raw
 * RSA private operation of the prehashed RSA forms and RSA decryption (decrypt, unwrap; up to ~40 ms for
 * RSA-8192: node:crypto has no asynchronous form of either), NONE_WITH_DSA signing and verification and the domain check of
 * an imported or generated DSA key (BigInt exponentiations over p, 5–11 ms for 3,072 bits).
 * The worker is signatures.worker.ts beside this file.
 */
import { availableParallelism } from 'node:os';
import { WorkerPool, workerModuleUrl } from '../../lib/worker-pool.js';
import { type NobleResult, type NobleTask, runNobleTask } from './signatures-noble.js';

export const SIGNATURE_POOL_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1));

const pool = new WorkerPool<NobleTask, NobleResult>({
  name: 'signature pool',
  workerUrl: workerModuleUrl(import.meta.url, 'signatures.worker'),
  size: SIGNATURE_POOL_SIZE,
  fair: true,
  inline: runNobleTask,
  revive: (result) => (result instanceof Uint8Array ? new Uint8Array(result) : result),
});

/** How many signature tasks ran in a worker or inline. */
export const signaturePoolStats = () => pool.stats();

/** Runs a task in a worker thread (inline if workers are unavailable). */
export const runInWorker = (task: NobleTask): Promise<NobleResult> => pool.run(task);

/** Stops the workers (graceful shutdown, tests); the pool restarts lazily on the next task. */
export const shutdownSignaturePool = () => pool.shutdown();
