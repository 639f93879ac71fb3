/**
 * Where a cheap signature (tens of microseconds: Ed25519, ECDSA on P-256 and secp256k1) is made, or a cheap
 * verification (an approver's signature) runs: on the calling thread, or away from it, in the signing lane's
 * worker thread (signing-lane.ts; libuv's thread pool before the twelfth session). The hand-offs cost more
 * than such a signature, so at low load the calling thread is faster and cheaper (bench, c=1, against the pool
 * alone: Ed25519 p50 0.78 → 0.72 ms and 529 → 459 µs CPU per request, P-256 0.83 → 0.70 ms and 530 → 414 µs).
 * Away from it wins when the calling thread is the limit (HTTP under load: c=64 6.6k req/s on the calling
 * thread against 7.7k in the pool) or when signing itself is the load, which the other threads take over.
 *
 * Decided once per SAMPLE_MS from what happened in the last one, read on demand (no timer): the calling
 * thread while its event loop was mostly waiting for I/O (utilization, with hysteresis so the answer does
 * not flap) and the signatures of the period would have taken at most MAX_SIGNING_SHARE of it there.
 */
import { performance } from 'node:perf_hooks';

const SAMPLE_MS = 50;
/** the calling thread once the loop's utilization is below this … */
const SPARE_BELOW = 0.6;
/** … and the pool again above this one */
const BUSY_ABOVE = 0.75;
const MAX_SIGNING_SHARE = 0.1;

let sampledAt = performance.now();
let sample = performance.eventLoopUtilization();
let signsInSample = 0;
/** how long a signature on the calling thread took, in ms (moving average) */
let signingMs = 0.05;
let here = true;

/** Whether the next cheap signature is made on the calling thread; counts it. */
export function signOnCallingThread(): boolean {
  signsInSample++;
  const now = performance.now();
  const elapsed = now - sampledAt;
  if (elapsed >= SAMPLE_MS) {
    const current = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(current, sample);
    const signingShare = (signsInSample * signingMs) / elapsed;
    here =
      signingShare <= MAX_SIGNING_SHARE && (here ? utilization <= BUSY_ABOVE : utilization < SPARE_BELOW);
    sample = current;
    sampledAt = now;
    signsInSample = 0;
  }
  return here;
}

/** Records how long a signature on the calling thread took. */
export function signedOnCallingThread(ms: number): void {
  signingMs += (ms - signingMs) / 16;
}
