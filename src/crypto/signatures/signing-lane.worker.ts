/** Worker thread of signing-lane.ts: signs each batch it is sent. */
import { serveTasks } from '../../lib/worker-pool.js';
import { signBatch } from './signing-lane.js';

serveTasks(signBatch);
