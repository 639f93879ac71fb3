/** Worker thread of the LMS pool (lms-pool.ts): subtree computations and signatures. */
import { serveTasks } from '../../lib/worker-pool.js';
import { type LmsTask, runLmsTask } from './lms-pool.js';

serveTasks((task: LmsTask) => runLmsTask(task));
