/** Test worker for worker-pool.test.ts: doubles each number, and ends its thread on the task 'exit'. */
import { serveTasks } from '../../../src/lib/worker-pool.js';

serveTasks((task: number | 'exit') => {
  if (task === 'exit') process.exit(3);
  return task * 2;
});
