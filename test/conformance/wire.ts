/**
 * The conformance suite's way of calling OpenTSB as a published client does: the exact method, path,
 * headers and body text (not a re-serialised object), over the real app on PostgreSQL and Redis.
 * A body given as a string is sent byte for byte, as a client that builds its JSON by hand sends it.
 */
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Role } from '../../src/auth/roles.js';
import type { PartitionFlags } from '../../src/keystore/partitions/partition-flags.js';
import { createTestContext, type TestContext, type TestContextOptions } from '../helpers/app.js';

export interface WireAnswer {
  status: number;
  text: string;
  /** the parsed JSON answer (undefined when the answer is not JSON) */
  // biome-ignore lint/suspicious/noExplicitAny: the clients decode untyped JSON; each test checks the types it reads
  json: any;
  headers: LightMyRequestResponse['headers'];
}

export interface WireRequest {
  /** the body text exactly as the client sends it; an object is JSON.stringify'd first */
  body?: string | object;
  /** headers of the client's own; `content-type: null` sends none */
  headers?: Record<string, string | null>;
}

export interface WireClient {
  send(method: string, url: string, request?: WireRequest): Promise<WireAnswer>;
}

/** A client holding one bearer token of the partition with these roles, sending `baseHeaders` on every call. */
export async function wireClient(
  t: TestContext,
  partition: string,
  roles: Role[] | null,
  baseHeaders: Record<string, string | null> = {},
): Promise<WireClient> {
  const auth = roles ? await t.as(partition, roles) : {};
  return {
    async send(method, url, request = {}) {
      const merged: Record<string, string | null> = { ...auth, ...baseHeaders, ...request.headers };
      const headers = Object.fromEntries(
        Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== null),
      );
      const payload =
        request.body === undefined
          ? undefined
          : typeof request.body === 'string'
            ? request.body
            : JSON.stringify(request.body);
      const response = await t.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(payload === undefined ? {} : { payload }),
      });
      let json: unknown;
      try {
        json = response.body === '' ? undefined : JSON.parse(response.body);
      } catch {
        json = undefined;
      }
      return { status: response.statusCode, text: response.body, json, headers: response.headers };
    },
  };
}

/** The world of one conformance file: the real app (with the workflow worker) and one partition. */
export async function conformanceContext(
  partition: string,
  flags: Partial<PartitionFlags> = {},
  options: TestContextOptions = {},
): Promise<TestContext> {
  const t = await createTestContext({ worker: true, ...options });
  await t.partition(partition, flags);
  return t;
}

/** The status check of a client that treats only `allowed` as success (most take 200 and 201). */
export function expectStatus(answer: WireAnswer, allowed: number[] = [200, 201]): void {
  expect(allowed, `${answer.status}: ${answer.text}`).toContain(answer.status);
}

/**
 * A Go-style type assertion on a decoded JSON value: `value.(string)` panics unless it is a string, and so
 * on. `kind` is the JSON type the client asserts.
 */
export function expectKind(
  value: unknown,
  kind: 'string' | 'number' | 'boolean' | 'object' | 'array',
  what: string,
): void {
  const actual = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  expect(actual, `${what} must be a JSON ${kind}`).toBe(kind);
}

/** Polls GET /v1/request/{id} as the clients do until the status leaves PENDING (or APPROVED). */
export async function pollRequest(client: WireClient, id: string, timeoutMs = 10_000): Promise<WireAnswer> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const answer = await client.send('GET', `/v1/request/${id}`, {
      headers: { 'content-type': 'application/json' },
    });
    const status = answer.json?.status;
    if (answer.status !== 200 || (status !== 'PENDING' && status !== 'APPROVED') || Date.now() > until)
      return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');
