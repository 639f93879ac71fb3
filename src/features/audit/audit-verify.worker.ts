/** Worker thread of audit-verify-pool.ts: verifies exported logs away from the event loop. */
import { serveTasks } from '../../lib/worker-pool.js';
import { runVerifyTask } from './audit-verifier.js';

serveTasks(runVerifyTask);
