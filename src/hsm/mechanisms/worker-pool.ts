/**
 * A tiny, lazily created pool (1–2 worker threads) for key generations that would block the event
 * loop for more than ~50 ms (the SLH-DSA "s" parameter sets take 0.2–1.5 s in noble).
 *
 * Workers are referenced only while they have work, so an idle pool never keeps the process alive.
 * The worker code is slh-dsa.worker.ts next to this file: when running from TypeScript sources
 * (tsx, vitest) the worker first registers tsx's loader; in a compiled build it is the .js file.
 * If a worker cannot be started, generation falls back to the calling thread.
 */

import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SlhDsaAlgorithm } from '../algorithms.js';
import { slhDsaKeygen } from './slh-dsa-params.js';

export interface GeneratedPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

interface Pending {
  resolve: (pair: GeneratedPair) => void;
  reject: (error: Error) => void;
  algorithm: SlhDsaAlgorithm;
  seed: Uint8Array;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  started: boolean;
}

type Reply =
  | { ready: true }
  | { id: number; secretKey: Uint8Array; publicKey: Uint8Array }
  | { id: number; error: string };

const SELF_URL = import.meta.url;
const FROM_SOURCES = SELF_URL.endsWith('.ts');
const WORKER_URL = new URL(`./slh-dsa.worker.${FROM_SOURCES ? 'ts' : 'js'}`, SELF_URL);

/** Loads the TypeScript worker through tsx (the same API bin/tsb.js uses). */
const TSX_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi)
  .then((api) => { api.register(); return import(workerData.entry); })
  .catch((error) => { setImmediate(() => { throw error; }); });
`;

let nextId = 1;
let slots: Slot[] = [];
let disabled = false;
const counters = { worker: 0, inline: 0, workerFailures: 0 };

export const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));

/** How many generations ran in a worker or inline (for tests and statistics). */
export function keygenPoolStats() {
  return { ...counters, workers: slots.length, disabled };
}

function inline(algorithm: SlhDsaAlgorithm, seed: Uint8Array): GeneratedPair {
  counters.inline++;
  return slhDsaKeygen(algorithm, seed);
}

/** The ESM entry of `tsx/esm/api` (require.resolve would give the CommonJS one, which cannot register from ESM). */
function tsxEsmApiUrl(): string {
  const require = createRequire(SELF_URL);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = require(manifestPath) as { exports: Record<string, { import: { default: string } }> };
  const entry = manifest.exports['./esm/api']?.import.default;
  if (!entry) throw new Error('tsx/esm/api not found');
  return new URL(entry, pathToFileURL(manifestPath)).href;
}

function startWorker(): Slot {
  const options = { workerData: {} as Record<string, string>, stdout: false, stderr: false };
  let worker: Worker;
  if (FROM_SOURCES) {
    const tsxApi = tsxEsmApiUrl();
    worker = new Worker(TSX_BOOTSTRAP, {
      ...options,
      eval: true,
      workerData: { tsxApi, entry: WORKER_URL.href },
    });
  } else {
    worker = new Worker(fileURLToPath(WORKER_URL), options);
  }
  const slot: Slot = { worker, pending: new Map(), started: false };
  worker.unref();
  worker.on('message', (reply: Reply) => {
    if ('ready' in reply) {
      slot.started = true;
      return;
    }
    const job = slot.pending.get(reply.id);
    if (!job) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) worker.unref();
    if ('error' in reply) {
      job.reject(new Error(reply.error));
    } else {
      counters.worker++;
      job.resolve({ secretKey: new Uint8Array(reply.secretKey), publicKey: new Uint8Array(reply.publicKey) });
    }
  });
  const retire = (error: Error) => {
    slots = slots.filter((other) => other !== slot);
    counters.workerFailures++;
    // a worker that never came up will not come up next time either: stop trying
    if (!slot.started) disabled = true;
    for (const job of slot.pending.values()) {
      try {
        job.resolve(inline(job.algorithm, job.seed));
      } catch {
        job.reject(error);
      }
    }
    slot.pending.clear();
  };
  worker.on('error', retire);
  worker.on('exit', (code) => {
    if (slots.includes(slot)) retire(new Error(`key generation worker exited with code ${code}`));
  });
  slots.push(slot);
  return slot;
}

function pickSlot(): Slot {
  const idle = slots.find((slot) => slot.pending.size === 0);
  if (idle) return idle;
  if (slots.length < POOL_SIZE) return startWorker();
  return slots.reduce((best, slot) => (slot.pending.size < best.pending.size ? slot : best));
}

/** SLH-DSA key generation from a seed in a worker thread (inline if workers are unavailable). */
export async function slhDsaKeygenInWorker(
  algorithm: SlhDsaAlgorithm,
  seed: Uint8Array,
): Promise<GeneratedPair> {
  if (disabled) return inline(algorithm, seed);
  let slot: Slot;
  try {
    slot = pickSlot();
  } catch {
    disabled = true;
    return inline(algorithm, seed);
  }
  const id = nextId++;
  return new Promise<GeneratedPair>((resolve, reject) => {
    slot.pending.set(id, { resolve, reject, algorithm, seed });
    slot.worker.ref();
    slot.worker.postMessage({ id, algorithm, seed });
  });
}

/** Stops the workers (graceful shutdown, tests); the pool restarts lazily on the next job. */
export async function shutdownKeygenPool(): Promise<void> {
  const stopping = slots;
  slots = [];
  await Promise.all(
    stopping.map(async (slot) => {
      for (const job of slot.pending.values()) job.reject(new Error('key generation pool shut down'));
      slot.pending.clear();
      await slot.worker.terminate();
    }),
  );
}
