/**
 * Logs every request of the scope it is registered in (after auth, so refused requests too) to the
 * tamper-evident audit log, and answers nothing before its entry is committed: the onSend hook awaits
 * the append. When the log cannot be written the answer is replaced by 503 (errorCode 2), which itself
 * is not logged again.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AuditLog } from '../audit/audit-log.js';
import type { RefusalSummaries } from '../audit/refusal-summaries.js';
import type { Clock } from '../clock.js';
import { auditRecordOf } from './audit-record.js';

export interface AuditPluginOptions {
  audit: AuditLog;
  /** where refused requests without a caller are counted instead of logged one by one */
  refusals?: RefusalSummaries;
  clock: Clock;
}

async function auditPlugin(app: FastifyInstance, { audit, refusals, clock }: AuditPluginOptions) {
  /** requests whose entry could not be written: their 503 goes out unlogged */
  const refused = new WeakSet<object>();

  app.addHook('onSend', async (request, reply, payload) => {
    if (refused.has(request)) return payload;
    const record = auditRecordOf({
      method: request.method,
      route: request.routeOptions.url ?? request.url.split('?')[0]!,
      caller: request.caller,
      params: request.params,
      body: request.body,
      statusCode: reply.statusCode,
      payload,
      at: clock.now(),
    });
    if (refusals && request.caller === null && record.outcome === 'failure') {
      // anyone can send these: counted per address and window, so a flood cannot grow the table (the
      // answer does not wait for that entry)
      const { statusCode, errorCode, at } = record;
      refusals.count({ clientAddress: request.ip, statusCode, errorCode, at });
      return payload;
    }
    try {
      await audit.append(record);
    } catch (error) {
      refused.add(request);
      throw error;
    }
    return payload;
  });
}

export default fp(auditPlugin, { name: 'audit', fastify: '5.x', dependencies: ['auth'] });
