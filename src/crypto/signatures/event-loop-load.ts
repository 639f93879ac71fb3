/**
 * Whether the event loop has time to spare, from its utilization (the share of time it was not waiting for
 * I/O) over the last SAMPLE_MS, with hysteresis so that the answer does not flap. Read on demand: no timer.
 */
import { performance } from 'node:perf_hooks';

const SAMPLE_MS = 50;
/** spare below this utilization … */
const SPARE_BELOW = 0.7;
/** … and busy again above this one */
const BUSY_ABOVE = 0.85;

let sampledAt = performance.now();
let sample = performance.eventLoopUtilization();
let spare = true;

export function eventLoopHasSpareTime(): boolean {
  const now = performance.now();
  if (now - sampledAt >= SAMPLE_MS) {
    const current = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(current, sample);
    sample = current;
    sampledAt = now;
    spare = spare ? utilization <= BUSY_ABOVE : utilization < SPARE_BELOW;
  }
  return spare;
}
