/**
 * Baseline (a) of the sign benchmark: POST /v1/synchronousSign in Fastify with the service's own
 * authentication plugin (same JWT keys from TSB_DATA_DIR, same partition lookup), the same Fastify
 * options, the same body and response schemas, and the same error handler, answering a constant
 * signature of the key's usual size without any crypto, key lookup or database access per request.
 *
 * Reads the service's environment (loadConfig): PORT, HOST, DATABASE_URL, TSB_DATA_DIR, LOG_LEVEL.
 */
import { randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { REDACTED_LOG_PATHS } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createPrismaClient } from '../src/db/prisma.js';
import {
  SignatureResponseSchema,
  SynchronousSignBodySchema,
} from '../src/features/operations/operations.schema.js';
import authPlugin from '../src/http/auth.plugin.js';
import { ErrorBodySchema } from '../src/http/common.schema.js';
import { errorHandler, notFoundHandler } from '../src/http/error-handler.js';
import { BENCH_CASES } from './algorithms.js';

const config = loadConfig();
const prisma = createPrismaClient(config.databaseUrl);

/** A constant signature per key label, of the size the real key produces. */
const signatures = new Map(
  BENCH_CASES.map((c) => [c.label, randomBytes(c.signatureBytes).toString('base64')] as const),
);
const defaultSignature = randomBytes(64).toString('base64');

const app = Fastify({
  logger: { level: config.logLevel, redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' } },
  bodyLimit: config.bodyLimitBytes,
  ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  requestIdHeader: 'x-request-id',
}).withTypeProvider<TypeBoxTypeProvider>();

app.setErrorHandler(errorHandler);
app.setNotFoundHandler(notFoundHandler);
app.addSchema(ErrorBodySchema);

app.get('/readyz', { config: { auth: false } }, async () => ({ status: 'ready' }));

await app.register(async (api) => {
  await api.register(authPlugin, { prisma, config });
  api.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/synchronousSign',
    {
      config: { auth: { roles: ['keyOperation'] as const } },
      schema: { body: SynchronousSignBodySchema, response: { 200: SignatureResponseSchema } },
    },
    async (request) => ({
      signature: signatures.get(request.body.signRequest.signKeyName) ?? defaultSignature,
    }),
  );
});

let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  await app.close();
  await prisma.$disconnect();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

await app.listen({ host: config.host, port: config.port });
