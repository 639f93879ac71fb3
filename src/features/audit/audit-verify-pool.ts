/**
 * Verifying an export costs microseconds per entry, seconds for a big log: the API runs it in a worker
 * thread so that other requests are not held up meanwhile.
 */
import { WorkerPool, workerModuleUrl } from '../../lib/worker-pool.js';
import { type AuditVerification, runVerifyTask, type VerifyTask } from './audit-verifier.js';

const pool = new WorkerPool<VerifyTask, AuditVerification>({
  name: 'audit verification',
  workerUrl: workerModuleUrl(import.meta.url, 'audit-verify.worker'),
  size: 1,
  fair: true,
  inline: runVerifyTask,
});

export const verifyOffThread = (task: VerifyTask): Promise<AuditVerification> => pool.run(task);

export const shutdownAuditVerifyPool = (): Promise<void> => pool.shutdown();
