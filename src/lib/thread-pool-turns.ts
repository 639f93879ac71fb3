/**
 * libuv's threads (UV_THREADPOOL_SIZE, default 4) run node:crypto's asynchronous work of every partition, first
 * come, first served: RSA, DSA, P-384/P-521 and ML-DSA signatures and their verification (an RSA-8192 signature
 * takes 34 ms here) and key password checks (scrypt). A partition sending many of them queued them all in front
 * of every other partition's. Such work goes through `inThreadPoolTurn`: at most two per thread are handed to
 * libuv at once (one running and one ready, so that no thread waits for the event loop between two), the others
 * wait here, one queue per partition, served in turn (work-owner.ts). Prime searches have a gate of their own
 * (crypto/mechanisms/node-keys.ts): they hold a thread for seconds.
 */
import { TurnGate } from './work-owner.js';

export const LIBUV_THREADS = Number(process.env['UV_THREADPOOL_SIZE']) || 4;

const turns = new TurnGate(2 * LIBUV_THREADS);

/** Runs `work` (which hands one job to libuv's threads) in its partition's turn. */
export const inThreadPoolTurn = <T>(work: () => Promise<T>): Promise<T> => turns.run(work);
