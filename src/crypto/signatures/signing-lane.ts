/**
 * The signing lane: worker threads that make the cheap signatures (Ed25519, ECDSA on P-256 and secp256k1) and
 * cheap verifications (an approver's signature) sent to them in batches, one message each way per batch. In
 * libuv's thread pool each was its own job, and each job woke a sleeping pool thread, which on a virtual machine
 * costs the waker more kernel time than the signature itself (bench/results/README.md, twelfth session: 17–57 µs
 * less CPU per HTTP sign at c=64). A turn of the event loop sends what it asked for in a few batches, each as
 * soon as it is full (`batchLimit`), the rest at the end of the turn: with one batch per turn the worker only
 * started once the loop had read every request of the turn, and the loop then waited for the whole batch; and
 * with several workers (more cores) a turn's batches are signed side by side. The key objects travel with each
 * batch (node:crypto shares them with the worker thread; no key material is copied into JavaScript), so a
 * worker keeps no key after its batch.
 */

import { type KeyObject, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { bufferView } from '../../lib/encoding.js';
import { WorkerPool, workerModuleUrl } from '../../lib/worker-pool.js';

/** A public key as node:crypto's verify takes it: a key object, or one with options (padding, dsaEncoding). */
export type LaneVerifyKey =
  | KeyObject
  | { key: KeyObject; padding?: number; dsaEncoding?: 'der' | 'ieee-p1363' };

/** A signature to make, or (with `signature`) one to verify. */
export type LaneTask =
  | { hash: string | null; data: Uint8Array; key: KeyObject }
  | { hash: string | null; data: Uint8Array; key: LaneVerifyKey; signature: Uint8Array };

/** Per task of a batch: the signature, the verdict, or the message of the error that refused a signature. */
export type LaneOutcome = Uint8Array | boolean | { error: string };

/**
 * Runs each task of a batch; one that fails does not fail the others. A verification node:crypto refuses
 * (malformed input) is false, as an invalid signature is.
 */
export function runBatch(batch: readonly LaneTask[]): LaneOutcome[] {
  return batch.map((task) => {
    if ('signature' in task) {
      try {
        return nodeVerify(task.hash, task.data, task.key, task.signature);
      } catch {
        return false;
      }
    }
    try {
      return nodeSign(task.hash, task.data, task.key);
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  });
}

/** one worker on two cores (the other is the event loop's), at most four */
const LANE_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1));

const lane = new WorkerPool<readonly LaneTask[], LaneOutcome[]>({
  name: 'signing lane',
  workerUrl: workerModuleUrl(import.meta.url, 'signing-lane.worker'),
  size: LANE_SIZE,
  inline: runBatch,
});

interface Waiting {
  task: LaneTask;
  resolve(outcome: Buffer | boolean): void;
  reject(error: Error): void;
}

/**
 * A batch leaves once it holds `batchLimit` tasks: a quarter of what the last turn asked for, at least
 * MIN_BATCH_LIMIT. So the worker starts on a turn's first signatures while the loop still reads its other
 * requests, at four messages a turn. Over HTTP (Ed25519, c = 16 / 64, medians of 5–6 alternating rounds,
 * bench/results/README.md, fifteenth session), against one batch per turn: without the audit log
 * 8,367–9,175 → 11,196–11,399 and 9,065–10,948 → 9,425–11,684 req/s; with it 4,821–5,665 → 5,041–5,834 and
 * 6,606–6,942 → 7,113–7,337, p50 at c = 64 8–11 % lower. A fixed limit of 4 did as well at c = 16 and sent
 * 16 messages a turn at c = 64.
 */
export const MIN_BATCH_LIMIT = 4;
export const BATCHES_PER_TURN = 4;

let waiting: Waiting[] = [];
/** tasks asked for in this turn (the first schedules its end, which sets the next turn's batchLimit from them) */
let askedThisTurn = 0;
let batchLimit = MIN_BATCH_LIMIT;

function sendAtEndOfTurn(): void {
  batchLimit = Math.max(MIN_BATCH_LIMIT, Math.ceil(askedThisTurn / BATCHES_PER_TURN));
  askedThisTurn = 0;
  if (waiting.length > 0) sendBatch();
}

function sendBatch(): void {
  const batch = waiting;
  waiting = [];
  lane.run(batch.map(({ task }) => task)).then(
    (outcomes) => {
      for (const [i, outcome] of outcomes.entries()) {
        const job = batch[i]!;
        if (typeof outcome === 'boolean') job.resolve(outcome);
        else if (outcome instanceof Uint8Array) job.resolve(bufferView(outcome));
        else job.reject(new Error(outcome.error));
      }
    },
    (error: Error) => {
      for (const job of batch) job.reject(error);
    },
  );
}

/** Queues a task for the next batch: sent when full, else at the end of this turn of the event loop. */
function inLane<T extends Buffer | boolean>(task: LaneTask): Promise<T> {
  return new Promise<Buffer | boolean>((resolve, reject) => {
    if (askedThisTurn++ === 0) setImmediate(sendAtEndOfTurn);
    waiting.push({ task, resolve, reject });
    if (waiting.length >= batchLimit) sendBatch();
  }) as Promise<T>;
}

/** A signature made in the lane, in a batch with others asked for in this turn of the event loop. */
export const signInLane = (hash: string | null, data: Uint8Array, key: KeyObject): Promise<Buffer> =>
  inLane<Buffer>({ hash, data, key });

/**
 * A verification in the lane, in a batch with other work of this turn of the event loop: false for an invalid
 * signature and for input node:crypto refuses; rejects only when the lane itself fails.
 */
export const verifyInLane = (
  hash: string | null,
  data: Uint8Array,
  key: LaneVerifyKey,
  signature: Uint8Array,
): Promise<boolean> => inLane<boolean>({ hash, data, key, signature });

/** How many batches ran in a worker or inline. */
export const signingLaneStats = () => lane.stats();

/** Stops the workers (graceful shutdown, tests); the lane restarts lazily on the next batch. */
export const shutdownSigningLane = () => lane.shutdown();
