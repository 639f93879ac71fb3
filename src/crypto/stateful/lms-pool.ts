/**
 * The LMS worker threads: subtree computations of key generation and signing (each may take from
 * milliseconds to seconds), off the event loop. The worker is lms.worker.ts beside this file.
 */
import { availableParallelism } from 'node:os';
import { WorkerPool, workerModuleUrl } from '../../lib/worker-pool.js';
import { levelParams } from './lms-params.js';
import { signHss, subtrees } from './lms-signer.js';
import { subtreeRoot } from './lms-tree.js';

export type LmsTask =
  | { kind: 'subtreeRoot'; h: number; w: number; I: Uint8Array; seed: Uint8Array; j: number }
  | { kind: 'sign'; privateKey: Uint8Array; index: number; message: Uint8Array };

export function runLmsTask(task: LmsTask): Uint8Array {
  if (task.kind === 'sign') return signHss(task.privateKey, task.index, task.message);
  const level = levelParams(task.h, task.w);
  return subtreeRoot(subtrees(level, { I: task.I, seed: task.seed }, task.j)).slice();
}

export const LMS_POOL_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1));

const pool = new WorkerPool<LmsTask, Uint8Array>({
  name: 'LMS pool',
  workerUrl: workerModuleUrl(import.meta.url, 'lms.worker'),
  size: LMS_POOL_SIZE,
  fair: true,
  inline: runLmsTask,
  revive: (result) => new Uint8Array(result),
});

export const runInLmsPool = (task: LmsTask): Promise<Uint8Array> => pool.run(task);
export const lmsPoolStats = () => pool.stats();
/** Stops the workers (graceful shutdown, tests); the pool restarts lazily on the next task. */
export const shutdownLmsPool = () => pool.shutdown();
