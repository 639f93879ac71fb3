/** Worker thread of the key generation pool (worker-pool.ts): slow SLH-DSA key generations. */
import { serveTasks } from '../../lib/worker-pool.js';
import { slhDsaKeygen } from './slh-dsa-params.js';
import type { KeygenTask } from './worker-pool.js';

serveTasks(({ algorithm, seed }: KeygenTask) => slhDsaKeygen(algorithm, seed));
