/** Worker thread of the approver key pool (approver-keys-pool.ts). */
import { serveTasks } from '../lib/worker-pool.js';
import { parseApproverValues } from './approver-values.js';

serveTasks(parseApproverValues);
