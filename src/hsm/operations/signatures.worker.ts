/**
 * Worker thread of the signature pool (signatures-pool.ts): runs noble signatures (ML-DSA, SLH-DSA,
 * BLS) and raw RSA private operations off the event loop.
 * Message in: `{ id, task }`; out: `{ id, result }` or `{ id, error }`.
 */
import { parentPort } from 'node:worker_threads';
import { type NobleTask, runNobleTask } from './signatures-noble.js';

parentPort?.on('message', ({ id, task }: { id: number; task: NobleTask }) => {
  try {
    parentPort?.postMessage({ id, result: runNobleTask(task) });
  } catch (error) {
    parentPort?.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
parentPort?.postMessage({ ready: true });
