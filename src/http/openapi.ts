import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { SERVICE_VERSION } from '../features/service-info/version.js';
import { withComponentSchemas } from './openapi-components.js';
import { documentOperation } from './openapi-operation.js';

/**
 * The Content-Security-Policy of the Swagger UI under /docs: its scripts and styles come from its own files;
 * it fetches the document and, with "Try it out", the API of this origin. No inline script, no other origin.
 */
export const DOCS_CONTENT_SECURITY_POLICY = {
  'default-src': "'none'",
  'script-src': "'self'",
  'style-src': "'self' 'unsafe-inline'",
  'img-src': "'self' data:",
  'font-src': "'self' data:",
  'connect-src': "'self'",
  'base-uri': "'none'",
  'form-action': "'none'",
  'frame-ancestors': "'none'",
};

/**
 * The OpenAPI 3.1 frame; paths come from the route schemas, their security requirement and common error
 * responses from `documentOperation`. Every tag a route uses must be listed here (redocly lint and
 * test/e2e/openapi.test.ts check it).
 */
export const openApiDocumentation: FastifyDynamicSwaggerOptions = {
  transform: documentOperation,
  transformObject: (document) =>
    withComponentSchemas('openapiObject' in document ? document.openapiObject : {}),
  // shared schemas keep their $id as component name (TsbError), so generated clients get readable types
  refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json['$id'] ?? `def-${i}`) },
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
    // relative: the host that serves this document (http or https, whatever port the operator chose)
    servers: [{ url: '/', description: 'the OpenTSB instance that serves this document' }],
    tags: [
      { name: 'Keys', description: 'key store management (keyManagement role)' },
      {
        name: 'Synchronous Key Operations',
        description:
          'sign, verify, MAC, encrypt, decrypt, wrap, block and modify answered at once (keyOperation role)',
      },
      {
        name: 'Requests',
        description:
          'operations on keys with an SKA policy: a request waits for its approvals, its status is polled (keyOperation role)',
      },
      {
        name: 'Approval Tasks',
        description:
          'approvers list their open tasks with a signed timestamp and approve or reject with a signature (approver role)',
      },
      { name: 'Certificate', description: 'certificates of keys: CSRs, self-signed and signed certificates' },
      { name: 'Service Information', description: 'version, licence, statistics, random (service role)' },
      { name: 'Audit', description: 'the hash-chained audit log: export and verification' },
      {
        name: 'Security Officer',
        description: 'partition policy, officers and four-eyes proposals (securityOfficer role)',
      },
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
