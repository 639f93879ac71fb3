/**
 * Logs every request of the scope it is registered in (after auth, so refused requests too) to the
 * tamper-evident audit log, and answers nothing before its entry is committed: the onSend hook awaits
 * the append. When the log cannot be written the answer is replaced by 503 (errorCode 2), which itself
 * is not logged again.
 *
 * It also takes over the counting of the keys a request uses (`UseCounter.deferInto`, from the preHandler
 * hook, so the handler and all it awaits run in the deferral): those uses are committed in the same
 * transaction as the request's entry, so a sign costs one commit, and an answer that could not be logged
 * has no count either (and, replaced by the 503, no result leaves).
 *
 * A streamed answer (a backup or an audit export) is logged when it starts, as every answer is, and once more
 * if it then ends before its last byte went out: the same request as a failure, 499 when the client left first,
 * 500 (errorCode 1) when the service broke it off (a database failure, the export's time limit).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { Clock } from '../../clock.js';
import { DeferredUses } from '../../keystore/deferred-uses.js';
import type { UseCounter } from '../../keystore/use-counter.js';
import { ReaderGoneError } from '../../lib/paced-readable.js';
import type { AuditLog } from './audit-log.js';
import { auditRecordOf, unfinishedStreamRecord, verifiedApproverKey } from './audit-record.js';
import type { RefusalSummaries } from './refusal-summaries.js';

export interface AuditPluginOptions {
  audit: AuditLog;
  /** where refused requests without a caller are counted instead of logged one by one */
  refusals?: RefusalSummaries;
  clock: Clock;
  /** the HSM's use counter: key uses of a request are committed with its entry instead of on their own */
  useCounter?: Pick<UseCounter, 'deferInto'>;
}

async function auditPlugin(app: FastifyInstance, { audit, refusals, clock, useCounter }: AuditPluginOptions) {
  /** requests whose entry could not be written: their 503 goes out unlogged */
  const refused = new WeakSet<object>();
  /** the key uses of each request that reached its handler */
  const deferred = new WeakMap<object, DeferredUses>();

  if (useCounter) {
    // preHandler: the last hook before the handler, after the body was read from the socket (whose events
    // need not run in the context an earlier hook opened)
    app.addHook('preHandler', (request, _reply, done) => {
      const uses = new DeferredUses();
      deferred.set(request, uses);
      useCounter.deferInto(uses, done);
    });
  }

  app.addHook('onSend', async (request, reply, payload) => {
    if (refused.has(request)) return payload;
    const record = auditRecordOf({
      method: request.method,
      route: request.routeOptions.url ?? request.url.split('?')[0]!,
      caller: request.caller,
      approverKey: request.approverKey,
      params: request.params,
      body: request.body,
      statusCode: reply.statusCode,
      payload,
      at: clock.now(),
    });
    // from here on, a use (of work that outlives the answer) is counted on its own
    const uses = deferred.get(request)?.take();
    if (
      refusals &&
      request.caller === null &&
      !verifiedApproverKey(request.approverKey) &&
      record.outcome === 'failure' &&
      !uses?.size
    ) {
      // anyone can send these: counted per address and window, so a flood cannot grow the table (the
      // answer does not wait for that entry)
      const { statusCode, errorCode, at } = record;
      refusals.count({ clientAddress: request.ip, statusCode, errorCode, at });
      return payload;
    }
    try {
      await audit.append(record, uses);
    } catch (error) {
      refused.add(request);
      throw error;
    }
    if (payload instanceof Readable) {
      whenUnfinished(reply, payload, (brokenOff) => {
        audit
          .append(unfinishedStreamRecord(record, { brokenOff, at: clock.now() }))
          .catch((error: unknown) =>
            request.log.error({ err: error }, 'the end of an unfinished streamed answer could not be logged'),
          );
      });
    }
    return payload;
  });
}

/**
 * Calls `unfinished` once the response closed before its last byte was handed to the socket; `brokenOff`:
 * the stream failed with an error of the service's (else the client went away).
 */
function whenUnfinished(
  reply: FastifyReply,
  payload: Readable,
  unfinished: (brokenOff: boolean) => void,
): void {
  let failure: Error | null = null;
  let finished = false;
  const onError = (error: Error) => {
    failure ??= error;
  };
  payload.on('error', onError);
  // 'finish' (not writableFinished, which a response of app.inject never sets): the last byte went to the socket
  reply.raw.once('finish', () => {
    finished = true;
  });
  reply.raw.once('close', () => {
    payload.off('error', onError);
    if (finished) return;
    unfinished(failure !== null && !(failure instanceof ReaderGoneError));
  });
}

export default fp(auditPlugin, { name: 'audit', fastify: '5.x', dependencies: ['auth'] });
