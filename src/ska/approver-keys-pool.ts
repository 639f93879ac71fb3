/**
 * Parsing an approver key or certificate costs 0.05–0.4 ms on the calling thread (OpenSSL's parse and
 * export, and the small-order check of an Ed25519 point), so a policy of 1,024 new approvers held the event
 * loop for a third of a second, and every other request of every partition with it. `parseApproverValuesAhead`
 * parses a policy's new approver values in a worker thread first, in tasks of a few dozen that the fair pool
 * serves per partition in turn, and remembers the results here: validation (policy-checks.ts) then finds
 * them parsed. Values that fail are left to validation, which reports them with their place in the policy.
 */
import { availableParallelism } from 'node:os';
import { bufferView } from '../lib/encoding.js';
import { WorkerPool, workerModuleUrl } from '../lib/worker-pool.js';
import { rememberApproverValue } from './approver-key.js';
import {
  type ApproverValue,
  type ParsedApproverValue,
  parseApproverValues,
  unparsedApproverValues,
} from './approver-values.js';

/** Fewer new values than this are parsed where they are validated: a worker's round trip would cost more. */
export const OFF_THREAD_MIN_VALUES = 8;
/** Values per worker task: about 10 ms of work, so that another partition's task waits no longer. */
export const VALUES_PER_TASK = 32;

const pool = new WorkerPool<readonly ApproverValue[], ParsedApproverValue[]>({
  name: 'approver key pool',
  workerUrl: workerModuleUrl(import.meta.url, 'approver-keys.worker'),
  size: Math.max(1, Math.min(2, availableParallelism() - 1)),
  fair: true,
  inline: parseApproverValues,
  // structured cloning turns the Buffers into Uint8Arrays
  revive: (results) => results.map((parsed) => parsed && { ...parsed, spki: bufferView(parsed.spki) }),
});

/** Parses the new approver values of a raw policy off the event loop (see above); validate the policy after it. */
export async function parseApproverValuesAhead(policy: unknown): Promise<void> {
  const values = unparsedApproverValues(policy);
  if (values.length < OFF_THREAD_MIN_VALUES) return;
  const tasks: ApproverValue[][] = [];
  for (let i = 0; i < values.length; i += VALUES_PER_TASK) tasks.push(values.slice(i, i + VALUES_PER_TASK));
  await Promise.all(
    tasks.map(async (task) => {
      // a task the pool could not run (it shut down meanwhile) is parsed by the validation that follows
      const results = await pool.run(task).catch(() => []);
      results.forEach((parsed, i) => {
        if (parsed) rememberApproverValue(task[i]!.type, task[i]!.der, parsed);
      });
    }),
  );
}

/** How many parse tasks ran in a worker or inline (tests). */
export const approverKeyPoolStats = () => pool.stats();

/** Stops the workers (graceful shutdown, tests); the pool restarts lazily on the next task. */
export const shutdownApproverKeyPool = () => pool.shutdown();
