/** Worker thread of the XMSS pool (xmss-pool.ts): key generation and signatures. */
import { serveTasks } from '../../lib/worker-pool.js';
import { runXmssTask, type XmssTask } from './xmss-pool.js';

serveTasks((task: XmssTask) => runXmssTask(task));
