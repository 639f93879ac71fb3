/** A tiny Fastify app with the auth plugin and a few dummy routes, for the auth integration tests. */
import { Writable } from 'node:stream';
import Fastify, { type FastifyError, type FastifyHttpsOptions, type FastifyInstance } from 'fastify';
import type { Authenticator } from '../../../src/auth/authenticator.js';
import type { Config } from '../../../src/config.js';
import { TsbError } from '../../../src/errors.js';
import type { PrismaClient } from '../../../src/generated/prisma/client.js';
import authPlugin from '../../../src/http/auth.plugin.js';

export interface AuthTestApp {
  app: FastifyInstance;
  /** Every log line the app wrote. */
  logs: string[];
}

export async function buildAuthTestApp(options: {
  prisma: PrismaClient;
  config: Pick<Config, 'jwt' | 'dataDir'>;
  authenticator?: Authenticator;
  https?: FastifyHttpsOptions<never>['https'];
}): Promise<AuthTestApp> {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const app = Fastify({
    logger: { level: 'info', stream },
    ...(options.https ? { https: options.https } : {}),
  }) as unknown as FastifyInstance;
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    if (error instanceof TsbError) return reply.code(error.statusCode).send(error.toBody());
    return reply.code(500).send({ errorCode: 1, reason: 'res.error.technical', message: error.message });
  });
  await app.register(authPlugin, {
    prisma: options.prisma,
    config: options.config,
    ...(options.authenticator ? { authenticator: options.authenticator } : {}),
  });
  const whoami = async (request: { caller: import('../../../src/auth/caller.js').Caller | null }) => ({
    partition: request.caller?.partitionName ?? null,
    partitionId: request.caller?.partitionId ?? null,
    roles: request.caller ? [...request.caller.roles].sort() : [],
    credentials: request.caller?.credentials ?? [],
  });
  app.get('/km', { config: { auth: { roles: ['keyManagement'] } } }, whoami);
  app.post('/ko', { config: { auth: { roles: ['keyOperation', 'service'] as const } } }, whoami);
  app.get('/public', { config: { auth: false } }, whoami);
  app.get('/undeclared', whoami);
  await app.ready();
  return { app, logs };
}
