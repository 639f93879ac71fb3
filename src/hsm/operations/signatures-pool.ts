/**
 * A lazily created pool of worker threads for signature work that would block the event loop for
 * milliseconds: ML-DSA sign/verify (1–9 ms), SLH-DSA (tens of ms to seconds), BLS (15–35 ms) and
 * the raw RSA private operation of the prehashed RSA forms (up to ~40 ms for RSA-8192).
 * Same pattern as the key generation pool (../mechanisms/worker-pool.ts): workers are referenced
 * only while they have work; from TypeScript sources the worker registers tsx's loader first; if a
 * worker cannot be started, the task runs on the calling thread.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type NobleResult, type NobleTask, runNobleTask } from './signatures-noble.js';

interface Pending {
  resolve: (result: NobleResult) => void;
  reject: (error: Error) => void;
  task: NobleTask;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  started: boolean;
}

type Reply = { ready: true } | { id: number; result: NobleResult } | { id: number; error: string };

const SELF_URL = import.meta.url;
const FROM_SOURCES = SELF_URL.endsWith('.ts');
const WORKER_URL = new URL(`./signatures.worker.${FROM_SOURCES ? 'ts' : 'js'}`, SELF_URL);

const TSX_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi)
  .then((api) => { api.register(); return import(workerData.entry); })
  .catch((error) => { setImmediate(() => { throw error; }); });
`;

export const SIGNATURE_POOL_SIZE = Math.max(1, Math.min(4, availableParallelism() - 1));

let nextId = 1;
let slots: Slot[] = [];
let disabled = false;
const counters = { worker: 0, inline: 0, workerFailures: 0 };

/** How many signature tasks ran in a worker or inline. */
export function signaturePoolStats() {
  return { ...counters, workers: slots.length, disabled };
}

function inline(task: NobleTask): NobleResult {
  counters.inline++;
  return runNobleTask(task);
}

function tsxEsmApiUrl(): string {
  const require = createRequire(SELF_URL);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = require(manifestPath) as { exports: Record<string, { import: { default: string } }> };
  const entry = manifest.exports['./esm/api']?.import.default;
  if (!entry) throw new Error('tsx/esm/api not found');
  return new URL(entry, pathToFileURL(manifestPath)).href;
}

function startWorker(): Slot {
  const options = { stdout: false, stderr: false };
  const worker = FROM_SOURCES
    ? new Worker(TSX_BOOTSTRAP, {
        ...options,
        eval: true,
        workerData: { tsxApi: tsxEsmApiUrl(), entry: WORKER_URL.href },
      })
    : new Worker(fileURLToPath(WORKER_URL), options);
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
      job.resolve(reply.result instanceof Uint8Array ? new Uint8Array(reply.result) : reply.result);
    }
  });
  const retire = (error: Error) => {
    slots = slots.filter((other) => other !== slot);
    counters.workerFailures++;
    if (!slot.started) disabled = true;
    for (const job of slot.pending.values()) {
      try {
        job.resolve(inline(job.task));
      } catch {
        job.reject(error);
      }
    }
    slot.pending.clear();
  };
  worker.on('error', retire);
  worker.on('exit', (code) => {
    if (slots.includes(slot)) retire(new Error(`signature worker exited with code ${code}`));
  });
  slots.push(slot);
  return slot;
}

function pickSlot(): Slot {
  const idle = slots.find((slot) => slot.pending.size === 0);
  if (idle) return idle;
  if (slots.length < SIGNATURE_POOL_SIZE) return startWorker();
  return slots.reduce((best, slot) => (slot.pending.size < best.pending.size ? slot : best));
}

/** Runs a task in a worker thread (inline if workers are unavailable). */
export async function runInWorker(task: NobleTask): Promise<NobleResult> {
  if (disabled) return inline(task);
  let slot: Slot;
  try {
    slot = pickSlot();
  } catch {
    disabled = true;
    return inline(task);
  }
  const id = nextId++;
  return new Promise<NobleResult>((resolve, reject) => {
    slot.pending.set(id, { resolve, reject, task });
    slot.worker.ref();
    slot.worker.postMessage({ id, task });
  });
}

/** Stops the workers (graceful shutdown, tests); the pool restarts lazily on the next task. */
export async function shutdownSignaturePool(): Promise<void> {
  const stopping = slots;
  slots = [];
  await Promise.all(
    stopping.map(async (slot) => {
      for (const job of slot.pending.values()) job.reject(new Error('signature pool shut down'));
      slot.pending.clear();
      await slot.worker.terminate();
    }),
  );
}
