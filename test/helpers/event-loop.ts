import { setTimeout as sleep } from 'node:timers/promises';
import { signOnCallingThread } from '../../src/crypto/signatures/sign-placement.js';

/** Keeps the event loop busy for `ms` (so sign-placement.ts sees a busy period). */
export function keepBusy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Lets one sample period of sign-placement.ts pass idle and starts the next (so the period before a check is the one given). */
export async function freshPeriod(): Promise<void> {
  await sleep(60);
  signOnCallingThread();
}

/**
 * Sets up where the next cheap signature or verification runs: on the calling thread after an idle
 * period, in the thread pool after a busy one; answers what sign-placement.ts decided.
 */
export async function placeCheapCrypto(busy: boolean): Promise<boolean> {
  await freshPeriod();
  if (busy) keepBusy(100);
  else await sleep(60);
  return signOnCallingThread();
}
