import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { SERVICE_VERSION } from '../modules/service-info/version.js';

/** The OpenAPI 3.1 frame; paths come from the route schemas. */
export const openApiDocumentation: FastifyDynamicSwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'OpenTSB',
      version: SERVICE_VERSION,
      description:
        'Open transaction security broker: the Securosys TSB REST API v1 wire format over an embedded software HSM. ' +
        'Errors are `{errorCode, reason, message}` with the TSB business error codes.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: 'http://localhost:8080' }],
    tags: [
      { name: 'Keys', description: 'key store management (keyManagement role)' },
      { name: 'Service Information', description: 'version, licence, statistics, random (service role)' },
      { name: 'Operations', description: 'health and readiness (no authentication)' },
    ],
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'JWT from `tsb token issue`',
        },
        apiKey: {
          type: 'apiKey',
          in: 'header',
          name: 'X-API-KEY',
          description: 'role API key from `tsb apikey create`',
        },
        // OpenAPI 3.1 knows mutualTLS; the bundled 3.0 typings do not.
        mutualTLS: {
          type: 'mutualTLS',
          description: 'client certificate registered with `tsb cert register`',
        } as never,
      },
    },
  },
};
