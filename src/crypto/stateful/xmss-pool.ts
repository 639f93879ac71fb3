/**
 * The XMSS worker threads: key generation (a whole tree, seconds) and signing (cheap once a thread has
 * the key's tree cached; a thread seeing the key first builds it), off the event loop. The worker is
 * xmss.worker.ts beside this file.
 */
import { availableParallelism } from 'node:os';
import { TsbError } from '../../errors.js';
import { WorkerPool, workerModuleUrl } from '../../lib/worker-pool.js';
import { xmssKeyFromSeeds, xmssSign } from './xmss.js';
import { type XmssParams, xmssParamsByOid } from './xmss-params.js';

export type XmssTask =
  | { kind: 'generate'; oid: number; seeds: Uint8Array }
  | { kind: 'sign'; oid: number; privateKey: Uint8Array; index: number; message: Uint8Array };

function paramsOf(oid: number): XmssParams {
  const params = xmssParamsByOid(oid);
  if (!params) throw new TsbError('HSM_INTEGRITY', `no XMSS parameter set has OID ${oid}`);
  return params;
}

/** generate: private key ‖ public key (the public key is the last 4 + 2n bytes); sign: the signature */
export function runXmssTask(task: XmssTask): Uint8Array {
  const params = paramsOf(task.oid);
  if (task.kind === 'sign') return xmssSign(params, task.privateKey, task.index, task.message);
  const n = params.n;
  const { privateKey, publicKey } = xmssKeyFromSeeds(
    params,
    task.seeds.subarray(0, n),
    task.seeds.subarray(n, 2 * n),
    task.seeds.subarray(2 * n, 3 * n),
  );
  return new Uint8Array(Buffer.concat([privateKey, publicKey]));
}

const pool = new WorkerPool<XmssTask, Uint8Array>({
  name: 'XMSS pool',
  workerUrl: workerModuleUrl(import.meta.url, 'xmss.worker'),
  size: Math.max(1, Math.min(4, availableParallelism() - 1)),
  fair: true,
  inline: runXmssTask,
  revive: (result) => new Uint8Array(result),
});

export const runInXmssPool = (task: XmssTask): Promise<Uint8Array> => pool.run(task);
/** Stops the workers (graceful shutdown, tests); the pool restarts lazily on the next task. */
export const shutdownXmssPool = () => pool.shutdown();
