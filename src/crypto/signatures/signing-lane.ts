/**
 * The signing lane: worker threads that make the cheap signatures (Ed25519, ECDSA on P-256 and secp256k1)
 * sent to them in one turn of the event loop as one batch, one message each way. In libuv's thread pool each
 * signature was its own job, and each job woke a sleeping pool thread, which on a virtual machine costs the
 * waker more kernel time than the signature itself (bench/results/README.md, twelfth session: 20–35 µs less
 * CPU per HTTP sign at c=64). The key objects travel with each batch (node:crypto shares them with the
 * worker thread; no key material is copied into JavaScript), so a worker keeps no key after its batch.
 */
import { type KeyObject, sign as nodeSign } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { WorkerPool, workerModuleUrl } from '../../lib/worker-pool.js';

export interface LaneSignature {
  hash: string | null;
  data: Uint8Array;
  key: KeyObject;
}

/** Per signature of a batch: the signature, or the message of the error that refused it. */
export type LaneOutcome = Uint8Array | { error: string };

/** Makes each signature of a batch; one that fails does not fail the others. */
export function signBatch(batch: readonly LaneSignature[]): LaneOutcome[] {
  return batch.map(({ hash, data, key }) => {
    try {
      return nodeSign(hash, data, key);
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  });
}

/** one worker on two cores (the other is the event loop's), at most four */
const LANE_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1));

const lane = new WorkerPool<readonly LaneSignature[], LaneOutcome[]>({
  name: 'signing lane',
  workerUrl: workerModuleUrl(import.meta.url, 'signing-lane.worker'),
  size: LANE_SIZE,
  inline: signBatch,
});

interface Waiting extends LaneSignature {
  resolve(signature: Buffer): void;
  reject(error: Error): void;
}

let waiting: Waiting[] = [];

function sendBatch(): void {
  const batch = waiting;
  waiting = [];
  lane.run(batch.map(({ hash, data, key }) => ({ hash, data, key }))).then(
    (outcomes) => {
      for (const [i, outcome] of outcomes.entries()) {
        const job = batch[i]!;
        if (outcome instanceof Uint8Array)
          job.resolve(Buffer.from(outcome.buffer, outcome.byteOffset, outcome.byteLength));
        else job.reject(new Error(outcome.error));
      }
    },
    (error: Error) => {
      for (const job of batch) job.reject(error);
    },
  );
}

/** A signature made in the lane, with the others asked for in this turn of the event loop. */
export function signInLane(hash: string | null, data: Uint8Array, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (waiting.length === 0) setImmediate(sendBatch);
    waiting.push({ hash, data, key, resolve, reject });
  });
}

/** How many batches ran in a worker or inline. */
export const signingLaneStats = () => lane.stats();

/** Stops the workers (graceful shutdown, tests); the lane restarts lazily on the next batch. */
export const shutdownSigningLane = () => lane.shutdown();
