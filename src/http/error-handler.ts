import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { TsbError, type TsbErrorBody } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';

const DATABASE_UNAVAILABLE_CODES = new Set([
  'P1001',
  'P1002',
  'P1017',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  '57P01',
]);

/**
 * The one place where errors become HTTP: a TsbError keeps its status and code; validation and body
 * parsing problems become 400/413 with a TSB error code; anything else is logged with the request id
 * and answered with a generic 500 that reveals nothing.
 */
export function toTsbError(error: FastifyError | Error): TsbError | null {
  if (error instanceof TsbError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const context = fastifyError.validationContext ?? 'body';
    const first = fastifyError.validation[0];
    const path = first?.instancePath ? first.instancePath.replace(/^\//, '').replaceAll('/', '.') : '';
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const field = [context, path, missing].filter(Boolean).join('.');
    const detail = missing ? 'is required' : (first?.message ?? 'is invalid');
    return new TsbError('INPUT_VALIDATION_FAILED', `${field} ${detail}`);
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TsbError('INVALID_JSON', 'the request body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TsbError('PAYLOAD_TOO_LARGE', 'the request body is larger than the service accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TsbError('UNSUPPORTED_MEDIA_TYPE', 'send the request body as application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TsbError('INPUT_VALIDATION_FAILED', 'the Content-Length header does not match the body');
  }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new TsbError('INVALID_JSON', 'the request body is not valid JSON');
  }
  if (isDatabaseUnavailable(error)) {
    return new TsbError('SERVICE_UNAVAILABLE', 'the key store database is not reachable; try again shortly');
  }
  return null;
}

function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && DATABASE_UNAVAILABLE_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Errors the router raises before a route is found (a URL that does not decode, a path parameter longer than
 * the router takes): answered with the TSB error body like every other error.
 */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const tsbError =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new TsbError('URI_TOO_LONG', 'a path parameter of the URL is longer than the service accepts')
      : new TsbError('INPUT_VALIDATION_FAILED', 'the URL is not valid (it does not decode)');
  return reply.code(tsbError.statusCode).send(tsbError.toBody());
}

export function errorHandler(
  this: unknown,
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const tsbError = toTsbError(error);
  if (tsbError) {
    if (tsbError.statusCode >= 500) request.log.error({ err: error }, 'request failed: %s', tsbError.reason);
    return reply.code(tsbError.statusCode).send(tsbError.toBody());
  }
  request.log.error({ err: error }, 'unexpected error');
  const body: TsbErrorBody = {
    errorCode: 1,
    reason: 'res.error.technical',
    message: `internal error; quote request id ${request.id} to the operator`,
  };
  return reply.code(500).send(body);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const error = new TsbError('ROUTE_NOT_FOUND', `no endpoint ${request.method} ${request.url.split('?')[0]}`);
  return reply.code(error.statusCode).send(error.toBody());
}
