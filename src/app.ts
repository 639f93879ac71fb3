import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import type { Config } from './config.js';
import { approvalsRoutes } from './features/approvals/approvals.routes.js';
import { requestsRoutes } from './features/approvals/requests.routes.js';
import type { Workflow } from './features/approvals/workflow.js';
import { approverPageRoutes } from './features/approver-page/approver-page.routes.js';
import { attestationRoutes } from './features/attestation/attestation.routes.js';
import auditPlugin from './features/audit/audit.plugin.js';
import { auditRoutes } from './features/audit/audit.routes.js';
import { certificatesRoutes } from './features/certificates/certificates.routes.js';
import { healthRoutes } from './features/health/health.routes.js';
import { metricsRoutes } from './features/health/metrics.routes.js';
import { keysRoutes } from './features/keys/keys.routes.js';
import { securityOfficerRoutes } from './features/officers/security-officer.routes.js';
import { fileEncryptRoutes } from './features/operations/file-encrypt.routes.js';
import { keyStatusRoutes } from './features/operations/key-status.routes.js';
import { operationsRoutes } from './features/operations/operations.routes.js';
import { serviceInfoRoutes } from './features/service-info/service-info.routes.js';
import type { PrismaClient } from './generated/prisma/client.js';
import type { SoftHsm } from './hsm/soft-hsm.js';
import authPlugin from './http/auth.plugin.js';
import { ErrorBodySchema } from './http/common.schema.js';
import { ignoreEmptyBodies } from './http/empty-body.js';
import { errorHandler, frameworkErrorHandler, notFoundHandler } from './http/error-handler.js';
import { guardInput } from './http/input-guard.js';
import { DOCS_CONTENT_SECURITY_POLICY, openApiDocumentation } from './http/openapi.js';
import rateLimitPlugin, { limitApproverKeyRequests, limitUnauthenticated } from './http/rate-limit.plugin.js';
import { requestIdOf } from './http/request-id.js';
import responseHeadersPlugin from './http/response-headers.js';
import { tlsServerOptions } from './http/tls.js';
import { asWorkOf } from './lib/work-owner.js';
import httpMetricsPlugin from './observability/http-metrics.js';
import { LOG_OPTIONS } from './observability/log-redaction.js';
import { buildApiServices } from './services.js';

export interface AppDependencies {
  config: Readonly<Config>;
  prisma: PrismaClient;
  hsm: SoftHsm;
  /** the SKA workflow; built by the composition root (with the app's logger) when not given */
  workflow?: Workflow;
  /** false: no logging; otherwise where log lines go (default stdout), always with secrets redacted. */
  logger?: false | { stream?: NodeJS.WritableStream; level?: string };
}

export { REDACTED_LOG_PATHS } from './observability/log-redaction.js';

/** Listener options: TLS when configured, and timeouts that cut off clients who send too slowly. */
function serverOptions(config: Readonly<Config>) {
  const timeout = config.requestTimeoutMs;
  // Node checks running requests against requestTimeout every connectionsCheckingInterval (default 30 s)
  const timing = {
    headersTimeout: timeout,
    requestTimeout: timeout,
    connectionsCheckingInterval: Math.min(1_000, Math.ceil(timeout / 2)),
  };
  const tls = tlsServerOptions(config);
  return {
    requestTimeout: timeout,
    // an idle socket is cut later than a slow request, so that the slow request still hears its 408
    connectionTimeout: 2 * timeout,
    ...('https' in tls ? { https: { ...tls.https, ...timing } } : { http: timing }),
  };
}

export async function buildApp({ config, prisma, hsm, logger, workflow: given }: AppDependencies) {
  const app = Fastify({
    logger:
      logger === false
        ? false
        : {
            level: logger?.level ?? config.logLevel,
            ...LOG_OPTIONS,
            ...(logger?.stream ? { stream: logger.stream } : {}),
          },
    bodyLimit: config.bodyLimitBytes,
    // key labels may be 150 characters, URL-encoded up to three times that; longer parameters get a TSB 414
    routerOptions: { maxParamLength: 1024 },
    frameworkErrors: frameworkErrorHandler,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    // the caller's X-Request-Id when sane (request-id.ts), else a UUID; echoed by response-headers.ts
    requestIdHeader: false,
    genReqId: requestIdOf,
    ...(serverOptions(config) as object),
  }).withTypeProvider<TypeBoxTypeProvider>();

  const services = buildApiServices({
    config,
    prisma,
    hsm,
    log: app.log,
    ...(given ? { workflow: given } : {}),
  });
  const { workflow, metrics, audit, limiter } = services;
  app.decorate('workflow', workflow);
  app.addHook('onClose', () => services.close());
  await app.register(httpMetricsPlugin, { registry: metrics.registry });
  await app.register(responseHeadersPlugin, { tls: config.tls !== null });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  guardInput(app);
  ignoreEmptyBodies(app);
  app.addSchema(ErrorBodySchema);

  await app.register(swagger, openApiDocumentation);
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CONTENT_SECURITY_POLICY });
  await app.register(healthRoutes, { prisma, hsm, workflow, config });
  await app.register(approverPageRoutes);
  await app.register(metricsRoutes, { metrics, access: config.operations });

  // every request of the API scope, refused ones too, is in the audit log before it is answered
  await app.register(async (api) => {
    const { max, unauthenticatedMax } = config.rateLimit;
    await api.register(authPlugin, {
      prisma,
      config,
      // revocations announced by any process (`tsb apikey revoke`, `tsb cert revoke`) leave the caches at once
      changes: hsm.metadata,
      ...(limiter && unauthenticatedMax > 0
        ? {
            onAuthenticationRefused: limitUnauthenticated(limiter, unauthenticatedMax),
            onApproverKeyRequest: limitApproverKeyRequests(limiter, unauthenticatedMax),
          }
        : {}),
    });
    await api.register(auditPlugin, {
      audit: audit.log,
      refusals: audit.refusals,
      clock: hsm.clock,
      useCounter: hsm.useCounter,
    });
    if (limiter && max > 0) await api.register(rateLimitPlugin, { limiter });
    // the worker pools every partition shares serve the partitions in turn (src/lib/work-owner.ts)
    api.addHook('preHandler', (request, _reply, done) => asWorkOf(request.caller?.partitionId ?? '', done));
    await api.register(keysRoutes, { hsm });
    await api.register(serviceInfoRoutes, { hsm });
    await api.register(operationsRoutes, { hsm });
    await api.register(fileEncryptRoutes, { hsm });
    await api.register(keyStatusRoutes, { hsm });
    await api.register(requestsRoutes, { hsm, workflow });
    await api.register(approvalsRoutes, { hsm, workflow });
    await api.register(attestationRoutes, { hsm });
    await api.register(auditRoutes, { hsm, audit: audit.service, config });
    await api.register(certificatesRoutes, { hsm });
    await api.register(securityOfficerRoutes, { hsm, prisma, config });
  });

  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;

declare module 'fastify' {
  interface FastifyInstance {
    workflow: Workflow;
  }
}
