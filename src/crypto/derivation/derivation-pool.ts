/**
 * Derivation along a path in a worker thread: each level computes a public point (and the HMACs around it),
 * 0.1–1 ms here depending on the curve, so a path of 32 levels held the event loop for up to 30 ms for
 * secp256k1, for every request of every partition. The pool serves the partitions in turn (work-owner.ts);
 * refusals (an unhardened Ed25519 step, a path too deep) come back as the TsbErrors they are.
 * The worker is derivation.worker.ts beside this file.
 */
import { availableParallelism } from 'node:os';
import { TsbError } from '../../errors.js';
import { WorkerPool, workerModuleUrl } from '../../lib/worker-pool.js';
import type { KeyMaterial } from '../mechanisms/key-material.js';
import {
  type DerivationOutcome,
  type DerivationTask,
  reviveOutcome,
  runDerivationTask,
} from './derivation-task.js';
import type { DerivationStep, DerivedKey } from './key-derivation.js';

const copyOf = (bytes: Buffer | null) => (bytes ? Buffer.from(bytes) : null);

const pool = new WorkerPool<DerivationTask, DerivationOutcome>({
  name: 'derivation pool',
  workerUrl: workerModuleUrl(import.meta.url, 'derivation.worker'),
  size: Math.max(1, Math.min(2, availableParallelism() - 1)),
  fair: true,
  // inline, the task must not wipe the caller's secret: the caller does, after the derivation
  inline: (task) =>
    runDerivationTask({ ...task, material: { ...task.material, secret: copyOf(task.material.secret) } }),
  revive: reviveOutcome,
});

/** `deriveFromMaterial` in a worker thread (see above). */
export async function deriveOffThread(
  material: KeyMaterial,
  chainCode: Buffer,
  path: DerivationStep[],
): Promise<DerivedKey> {
  const outcome = await pool.run({ material, chainCode, path });
  if ('refused' in outcome) throw new TsbError(outcome.refused.kind, outcome.refused.message);
  return outcome.derived;
}

export const derivationPoolStats = () => pool.stats();

/** Stops the workers (graceful shutdown, tests); the pool restarts lazily on the next task. */
export const shutdownDerivationPool = () => pool.shutdown();
