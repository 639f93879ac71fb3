/** Worker thread of the key generation pool (keygen-pool.ts): slow SLH-DSA key generations. */
import { serveTasks } from '../../lib/worker-pool.js';
import type { KeygenTask } from './keygen-pool.js';
import { slhDsaKeygen } from './slh-dsa-params.js';

serveTasks(({ algorithm, seed }: KeygenTask) => slhDsaKeygen(algorithm, seed));
