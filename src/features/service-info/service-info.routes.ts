import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { MAX_RANDOM_BYTES, type SoftHsm } from '../../hsm/soft-hsm.js';
import { errorResponses } from '../../http/common.schema.js';
import { onlyRoles } from '../../http/route-access.js';
import { SERVICE_VERSION } from './version.js';

/** Licence flags of the TSB that OpenTSB's features correspond to; all of them are always on. */
export const CLIENT_FLAGS = ['KEY_AUTH', 'REST_API', 'TSB_ENGINE', 'EXTENDED_KEY_ATTRIBUTES'] as const;

const service = onlyRoles('service');
const tags = ['Service Information'];
const commonErrors = errorResponses(401, 403, 500, 503);

/** TSB v1 service information (reference §2.1). */
export const serviceInfoRoutes: FastifyPluginAsyncTypebox<{ hsm: SoftHsm }> = async (app, { hsm }) => {
  app.get(
    '/v1/versionInfo',
    {
      config: service,
      schema: {
        tags,
        operationId: 'getVersionInfo',
        summary: 'Service version',
        response: { 200: Type.Object({ Version: Type.String() }), ...commonErrors },
      },
    },
    async () => ({ Version: SERVICE_VERSION }),
  );

  app.get(
    '/v1/licenseInfo',
    {
      config: service,
      schema: {
        tags,
        operationId: 'getLicenseInfo',
        summary: 'Licence flags (OpenTSB has every feature on)',
        response: { 200: Type.Object({ clientFlags: Type.Array(Type.String()) }), ...commonErrors },
      },
    },
    async () => ({ clientFlags: [...CLIENT_FLAGS] }),
  );

  app.get(
    '/v1/keystore/statistics',
    {
      config: service,
      schema: {
        tags,
        operationId: 'getKeystoreStatistics',
        summary: 'Key counts of the caller’s partition and its own key cache figures',
        description:
          'keyCache counts the caller’s partition alone: its keys in the cache now (size) and its own lookups ' +
          'served and missed since the service started; capacity is the cache size all partitions share. ' +
          'The whole cache’s figures are the operator’s, on /metrics (tsb_key_cache_*).',
        response: {
          200: Type.Object({
            partition: Type.String(),
            keyCount: Type.Integer(),
            invalidatedKeyCount: Type.Integer(),
            keysByAlgorithm: Type.Record(Type.String(), Type.Integer()),
            keyCache: Type.Object({
              size: Type.Integer(),
              capacity: Type.Integer(),
              hits: Type.Integer(),
              misses: Type.Integer(),
            }),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => hsm.keys.statistics(await hsm.partition(request.caller!.partitionId)),
  );

  app.get(
    '/v1/generateRandom/:length',
    {
      // The reference names the keyOperation group, the Go client the service group: either is accepted.
      config: { auth: { roles: ['keyOperation', 'service'] as const } },
      schema: {
        tags,
        operationId: 'generateRandom',
        summary: `Random bytes from the HSM's generator (1 to ${MAX_RANDOM_BYTES})`,
        params: Type.Object({
          length: Type.String({ pattern: '^[0-9]{1,9}$', description: 'number of bytes' }),
        }),
        response: {
          200: Type.Object({ random: Type.String({ description: 'base64' }) }),
          ...errorResponses(400),
          ...commonErrors,
        },
      },
    },
    async (request) => ({ random: hsm.random(Number(request.params.length)).toString('base64') }),
  );
};
