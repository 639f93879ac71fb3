/**
 * A thin layer over openapi-fetch: a client typed by the generated `paths`, with the caller's credentials on
 * every request, and helpers that turn a TSB error answer into a typed exception.
 */
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './schema.js';

/** The TSB error body every 4xx/5xx answer carries: `{errorCode, reason, message}`. */
export type TsbErrorBody = components['schemas']['TsbError'];

/** The typed client: `client.POST('/v1/sign', { body })`, `client.GET('/v1/request/{id}', { params })`. */
export type TsbClient = Client<paths>;

export interface TsbClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** where OpenTSB listens, e.g. https://tsb.example.org */
  baseUrl: string;
  /** a JWT (sent as `Authorization: Bearer …`) */
  token?: string;
  /** one or more role API keys (sent as `X-API-KEY`, comma-separated) */
  apiKey?: string | readonly string[];
}

export function createTsbClient({
  baseUrl,
  token,
  apiKey,
  headers,
  ...options
}: TsbClientOptions): TsbClient {
  const credentials: Record<string, string> = {};
  if (token !== undefined) credentials['authorization'] = `Bearer ${token}`;
  if (apiKey !== undefined) credentials['x-api-key'] = typeof apiKey === 'string' ? apiKey : apiKey.join(',');
  return createClient<paths>({
    ...options,
    baseUrl,
    headers: { ...(headers as Record<string, string> | undefined), ...credentials },
  });
}

/** A TSB error answer: the HTTP status and the typed error body. */
export class TsbApiError extends Error {
  override readonly name = 'TsbApiError';
  readonly errorCode: number;
  readonly reason: string;

  constructor(
    readonly status: number,
    readonly body: TsbErrorBody,
  ) {
    super(`OpenTSB answered ${status}: ${body.message} (errorCode ${body.errorCode}, ${body.reason})`);
    this.errorCode = body.errorCode;
    this.reason = body.reason;
  }
}

function isTsbErrorBody(value: unknown): value is TsbErrorBody {
  const body = value as Partial<TsbErrorBody> | null;
  return typeof body === 'object' && body !== null && typeof body.errorCode === 'number';
}

interface CallResult {
  data?: unknown;
  error?: unknown;
  response: Response;
}

/**
 * The data of a successful call, or a TsbApiError for an error answer:
 * `const { signRequestId } = await unwrap(client.POST('/v1/sign', { body }))`.
 */
export async function unwrap<R extends CallResult>(
  call: Promise<R> | R,
): Promise<Exclude<R['data'], undefined>> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) {
    const body = isTsbErrorBody(error)
      ? error
      : { errorCode: 1, reason: 'res.error.technical', message: `${response.status} ${response.statusText}` };
    throw new TsbApiError(response.status, body);
  }
  return data as Exclude<R['data'], undefined>;
}

export type RequestStatus = paths['/v1/request/{id}']['get']['responses'][200]['content']['application/json'];

/** The statuses a request does not leave again; PENDING and APPROVED (about to execute) move on. */
export const FINAL_REQUEST_STATUSES: readonly string[] = [
  'EXECUTED',
  'FAILED',
  'EXPIRED',
  'REJECTED',
  'CANCELLED',
];

/** Polls GET /v1/request/{id} until the request reaches a final status, or throws after `timeoutMs`. */
export async function waitForRequest(
  client: TsbClient,
  id: string,
  { intervalMs = 250, timeoutMs = 60_000 }: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<RequestStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await unwrap(client.GET('/v1/request/{id}', { params: { path: { id } } }));
    if (FINAL_REQUEST_STATUSES.includes(status.status)) return status;
    if (Date.now() > deadline)
      throw new Error(`request ${id} is still ${status.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
