/**
 * What every operation of the OpenAPI document shares, derived in one place from what the route declares:
 * the security requirement from `config.auth`, and the TSB error answers the plumbing around the route can
 * give (validation, authentication, rate limit, body size, unreachable database). Routes declare only the
 * errors of their own domain (404 for a named object, 409 for a state conflict); the document is the same
 * whichever helper adds a route, and a route cannot forget its 401 or 429.
 */
import type { SwaggerTransform } from '@fastify/swagger';
import type { RouteAuth } from './auth.plugin.js';
import { OPERATION_DESCRIPTIONS } from './openapi-descriptions.js';
import { OPERATION_EXAMPLES } from './openapi-examples.js';

/** Every authenticated route accepts any one of the three credential kinds (OpenAPI: alternatives). */
export const API_SECURITY_REQUIREMENT: Array<Record<string, string[]>> = [
  { bearerAuth: [] },
  { apiKey: [] },
  { mutualTLS: [] },
];

/** The response description of each error status, with the TSB error codes it carries. */
export const ERROR_DESCRIPTIONS: Record<number, string> = {
  400:
    'The request is invalid: a body field, parameter or value the service refuses ' +
    '(errorCode 600 validation failed, 621 invalid JSON, 607 algorithm not supported by the key, …)',
  401:
    'No valid credentials (errorCode 406 missing access token, 416 missing API key, 617 invalid access ' +
    'token, 631 invalid API key, 618 insufficient login information)',
  403:
    'The credentials lack the role this endpoint needs (errorCode 400), or the key or its policy forbids the ' +
    'operation (401 missing approval, 614 operation forbidden for the key, 620 key password mismatch)',
  404:
    'A named object does not exist (errorCode 650 key, 651 request, 652 task, 653 other object) ' +
    'or a path that no endpoint serves (611)',
  409: 'The object is not in a state that allows this (errorCode 608 key already exists, 500 already decided)',
  413: 'The request body is larger than the service accepts (errorCode 600)',
  414: 'A path parameter is longer than the service accepts (errorCode 600)',
  415: 'The request body is not application/json (errorCode 600)',
  429:
    'Too many requests from these credentials in the current window (errorCode 900; only when the operator ' +
    'set a rate limit); the Retry-After header says when to try again. On the endpoints that create SKA ' +
    'requests also: the partition has as many open requests as TSB_MAX_OPEN_REQUESTS allows (errorCode 900, ' +
    'no Retry-After)',
  500: 'Internal error (errorCode 1, or 701 for an HSM integrity fault); the message quotes the request id',
  501: 'The TSB feature is not implemented by OpenTSB (errorCode 101)',
  503: 'The key store database is not reachable (errorCode 2); try again shortly',
};

const RATE_LIMIT_HEADERS = {
  'retry-after': {
    type: 'integer',
    minimum: 1,
    description: 'seconds until the window admits requests again',
  },
  ratelimit: {
    type: 'string',
    description:
      'the budget left (draft-ietf-httpapi-ratelimit-headers): `"caller";r=0;t=<seconds to the next window>`',
  },
  'ratelimit-policy': {
    type: 'string',
    description:
      'the limit: `"caller";q=<requests>;w=<window seconds>` (`"address"` for unauthenticated ones)',
  },
};

type Schema = Record<string, unknown>;
type Responses = Record<string, unknown>;

function isTsbErrorReference(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as Schema)['$ref'] === 'TsbError';
}

function errorResponse(status: number): Schema {
  return {
    $ref: 'TsbError',
    description: ERROR_DESCRIPTIONS[status] ?? 'TSB error',
    ...(status === 429 ? { headers: RATE_LIMIT_HEADERS } : {}),
  };
}

/** The error statuses the plumbing answers for a route, beyond the ones the route declares itself. */
export function commonErrorStatuses(options: { auth: RouteAuth | undefined; body: boolean; url: string }) {
  // 400: every route refuses NUL characters in its URL parameters, and a URL that does not decode
  const statuses = [400, 500];
  if (options.auth !== false) statuses.push(401, 403, 429, 503);
  if (options.body) statuses.push(413, 415);
  if (options.url.includes(':') || options.url.includes('{')) statuses.push(404, 414);
  return statuses;
}

/**
 * The @fastify/swagger transform: adds the security requirement (`[]` for public routes, the three credential
 * kinds and an `x-tsb-roles` list otherwise) and the common TSB error responses. The route's own schema is
 * copied, never changed: Fastify validates and serialises with it.
 */
export const documentOperation: SwaggerTransform = ({ schema, url, route }) => {
  if (!schema || (schema as Schema)['hide']) return { schema, url };
  const auth = (route.config as { auth?: RouteAuth } | undefined)?.auth;
  const operationId = String((schema as Schema)['operationId'] ?? '');
  const described = OPERATION_DESCRIPTIONS[operationId];
  const examples = OPERATION_EXAMPLES[operationId];
  const declared = ((schema as Schema)['response'] ?? {}) as Responses;
  const responses: Responses = {};
  for (const [status, response] of Object.entries(declared)) {
    // route-declared TSB errors keep their status and get the shared description
    if (isTsbErrorReference(response)) responses[status] = errorResponse(Number(status));
    else if (status.startsWith('2'))
      responses[status] = successResponse(response as Schema, described, examples);
    else responses[status] = response;
  }
  for (const status of commonErrorStatuses({ auth, body: 'body' in schema, url })) {
    responses[String(status)] ??= errorResponse(status);
  }
  const sorted = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
  const security =
    auth === false
      ? { security: [] }
      : { security: API_SECURITY_REQUIREMENT, ...(auth ? { 'x-tsb-roles': [...auth.roles] } : {}) };
  const body = (schema as Schema)['body'] as Schema | undefined;
  const documented = {
    ...schema,
    ...((schema as Schema)['description'] || !described ? {} : { description: described.description }),
    ...(body && examples?.request !== undefined ? { body: { ...body, examples: [examples.request] } } : {}),
  };
  return { schema: { ...documented, ...security, response: sorted }, url };
};

/** A success answer with a description (the route's, else the catalog's) and its example. */
function successResponse(
  response: Schema,
  described: { success: string } | undefined,
  examples: { response?: unknown } | undefined,
): Schema {
  return {
    ...response,
    ...(response['description'] || !described ? {} : { 'x-response-description': described.success }),
    ...(examples?.response !== undefined && !('content' in response)
      ? { examples: [examples.response] }
      : {}),
  };
}
