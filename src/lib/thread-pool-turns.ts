/**
 * libuv's threads (UV_THREADPOOL_SIZE, default 4) run node:crypto's asynchronous work of every partition, first
 * come, first served: signatures (an RSA-8192 signature takes 34 ms here) and key password checks (scrypt, tens of
 * milliseconds). A partition sending many slow ones queued them all in front of every other partition's. Slow work
 * goes through `inThreadPoolTurn`: at most LIBUV_JOBS_AT_ONCE such jobs are handed to libuv at once, the others wait
 * here, one queue per partition, served in turn (work-owner.ts). Work of about a millisecond (ML-DSA, P-384 and
 * RSA-2048 signatures, verifications) goes straight to libuv: held back here, it left the threads idle while the
 * event loop was busy elsewhere (ML-DSA-65 at c=64 signed about a tenth slower). Prime searches have a gate of
 * their own (crypto/mechanisms/node-keys.ts): they hold a thread for seconds.
 */
import { TurnGate } from './work-owner.js';

export const LIBUV_THREADS = Number(process.env['UV_THREADPOOL_SIZE']) || 4;

/** One job running and one ready per thread: the jobs that come here take milliseconds, longer than the hand-over. */
export const LIBUV_JOBS_AT_ONCE = 2 * LIBUV_THREADS;

const turns = new TurnGate(LIBUV_JOBS_AT_ONCE);

/** Runs `work` (which hands one slow job to libuv's threads) in its partition's turn. */
export const inThreadPoolTurn = <T>(work: () => Promise<T>): Promise<T> => turns.run(work);
