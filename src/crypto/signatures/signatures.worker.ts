/** Worker thread of the signature pool (signatures-pool.ts): noble signatures and raw RSA operations. */
import { serveTasks } from '../../lib/worker-pool.js';
import { runNobleTask } from './signatures-noble.js';

serveTasks(runNobleTask);
