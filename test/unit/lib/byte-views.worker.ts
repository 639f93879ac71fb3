/** Test worker for worker-pool.test.ts: tells how each byte view it was sent arrived, or sends a pooled one. */
import { serveTasks } from '../../../src/lib/worker-pool.js';

export interface ArrivedView {
  hex: string;
  /** the size of the buffer the view arrived in */
  backing: number;
}

function arrived(value: unknown): unknown {
  if (value instanceof Uint8Array)
    return { hex: Buffer.from(value).toString('hex'), backing: value.buffer.byteLength };
  if (Array.isArray(value)) return value.map(arrived);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, arrived(item)]));
  return value;
}

serveTasks((task: { describe?: unknown; pooled?: string }) =>
  // a small Buffer made from base64 is a view into the worker's own shared pool
  task.pooled === undefined ? arrived(task.describe) : Buffer.from(task.pooled, 'base64'),
);
