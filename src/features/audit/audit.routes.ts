import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.js';
import { TsbError } from '../../errors.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { errorResponses } from '../../http/common.schema.js';
import { onlyRoles } from '../../http/route-access.js';
import {
  AUDIT_LOG_MEDIA_TYPE,
  AuditExportSchema,
  AuditVerificationSchema,
  AuditVerifyJsonBodySchema,
  AuditVerifyTextBodySchema,
} from './audit.schema.js';
import type { AuditService } from './audit.service.js';

const securityOfficer = onlyRoles('securityOfficer');
const tags = ['Audit'];

/** The tamper-evident audit log of the caller's own partition, for its security officers (docs/audit-log.md). */
export const auditRoutes: FastifyPluginAsyncTypebox<{
  hsm: SoftHsm;
  audit: AuditService;
  config: Pick<Config, 'audit'>;
}> = async (app, { hsm, audit, config }) => {
  // an export travels back as it came out: JSON lines (or plain text), besides {"log": "..."}
  app.addContentTypeParser(AUDIT_LOG_MEDIA_TYPE, { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );

  app.get(
    '/v1/audit/export',
    {
      config: securityOfficer,
      schema: {
        tags,
        operationId: 'exportAuditLog',
        summary: "Export the partition's audit log as JSON lines, ending in a freshly signed checkpoint",
        response: {
          200: { description: 'the log', content: { [AUDIT_LOG_MEDIA_TYPE]: { schema: AuditExportSchema } } },
          ...errorResponses(401, 403, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const partition = await hsm.partition(request.caller!.partitionId);
      const lines = await audit.export(partition);
      return reply
        .type(AUDIT_LOG_MEDIA_TYPE)
        .header('content-disposition', `attachment; filename="audit-${partition.name}.jsonl"`)
        .send(Readable.from(lines));
    },
  );

  app.post(
    '/v1/audit/verify',
    {
      config: securityOfficer,
      bodyLimit: config.audit.verifyBodyLimitBytes,
      schema: {
        tags,
        operationId: 'verifyAuditLog',
        summary:
          "Verify an exported audit log against the partition's own attestation key: edited, removed or " +
          'reordered entries, checkpoint signatures, entries no checkpoint covers',
        body: {
          content: {
            'application/json': { schema: AuditVerifyJsonBodySchema },
            [AUDIT_LOG_MEDIA_TYPE]: { schema: AuditVerifyTextBodySchema },
            'text/plain': { schema: AuditVerifyTextBodySchema },
          },
        },
        response: { 200: AuditVerificationSchema, ...errorResponses(400, 401, 403, 413, 415, 500, 503) },
      },
    },
    async (request) => {
      const body: unknown = request.body;
      const text = typeof body === 'string' ? body : (body as { log?: unknown } | null)?.log;
      if (typeof text !== 'string')
        throw new TsbError(
          'INPUT_VALIDATION_FAILED',
          'send the exported log as the body, or as {"log": "..."}',
        );
      return audit.verify(await hsm.partition(request.caller!.partitionId), text);
    },
  );
};
