/** Worker thread of signing-lane.ts: runs each batch it is sent. */
import { serveTasks } from '../../lib/worker-pool.js';
import { runBatch } from './signing-lane.js';

serveTasks(runBatch);
