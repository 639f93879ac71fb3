/**
 * Bench only: the service (src/server.ts) with the audit log's append answering at once instead of after
 * the commit of its entry, so `npm run bench` can show what the audit log costs (audit on vs. off, same
 * run). The request's audit record is still built; nothing is written, and the key uses a request defers
 * to its entry are not counted. Never a way to run OpenTSB.
 */
import { AuditLog } from '../src/features/audit/audit-log.js';

AuditLog.prototype.append = () => Promise.resolve();

await import('../src/server.js');
