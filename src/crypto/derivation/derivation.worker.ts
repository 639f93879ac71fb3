/** Worker thread of the derivation pool (derivation-pool.ts). */
import { serveTasks } from '../../lib/worker-pool.js';
import { runDerivationTask } from './derivation-task.js';

serveTasks(runDerivationTask);
