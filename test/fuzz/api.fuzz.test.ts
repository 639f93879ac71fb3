/**
 * Hostile input across every endpoint of openapi/openapi.json: FUZZ_REQUESTS generated requests (default
 * 100,000; `npm run test:fuzz`), most of them shaped by the route's schema and aimed at existing keys and
 * requests, the rest broken in one place, malformed JSON, wrong media types, odd path parameters and foreign
 * or missing credentials. Every answer must be below 500 with the TSB error body, and a refused request must
 * leave the stored state exactly as it was. Every run draws a fresh seed (printed); FUZZ_SEED replays a run.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { createApprover, rule } from '../helpers/approvers.js';
import {
  bodyValue,
  brokenValue,
  type JsonSchema,
  type KnownValues,
  mutatedSeed,
  validValue,
} from './schema-arbitrary.js';

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 100_000);
/** a fresh seed on every run, so each run explores new ground; printed first, so a failure replays */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31 - 1);
console.log(`fuzz seed ${SEED}: replay with FUZZ_SEED=${SEED} FUZZ_REQUESTS=${REQUESTS} npm run test:fuzz`);
const PARTITION = 'fuzz';
const ALL_ROLES = [
  'keyManagement',
  'keyOperation',
  'approver',
  'service',
  'approverKeyManagement',
  'securityOfficer',
] as const;

interface Operation {
  method: string;
  path: string;
  body: JsonSchema | null;
  pathParameters: Record<string, JsonSchema>;
}

interface FuzzRequest {
  operation: Operation;
  path: string;
  auth: 'partition' | 'other-partition' | 'none' | 'garbage';
  body:
    | { kind: 'json'; value: unknown }
    | { kind: 'text'; text: string; contentType: string }
    | { kind: 'none' };
}

const document = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content?: Record<string, { schema: JsonSchema }> };
        parameters?: Array<{ in: string; name: string; schema: JsonSchema }>;
      }
    >
  >;
};

const OPERATIONS: Operation[] = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({
    method: method.toUpperCase(),
    path,
    body: operation.requestBody?.content?.['application/json']?.schema ?? null,
    pathParameters: Object.fromEntries(
      (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => [p.name, p.schema]),
    ),
  })),
);

/** The stored state a refused request must not change (use counts and update times left aside). */
const STATE_TABLES = [
  'Partition',
  'Key',
  'ApiKey',
  'ClientCertificate',
  'SkaRequest',
  'ApprovalTask',
  'CertificateAuthority',
  'SecurityOfficer',
  'OfficerProposal',
];

let t: TestContext;
let headers: Record<string, Record<string, string>>;
let known: KnownValues;
/** accepted request bodies per endpoint ("POST /v1/…"), which the run changes in one place at a time */
const seeds = new Map<string, unknown[]>();

async function stateFingerprint(): Promise<string> {
  const parts = STATE_TABLES.map(
    (table) =>
      `(SELECT coalesce(md5(string_agg((to_jsonb(x) - 'useCount' - 'updatedAt' - 'lastFetchedAt')::text, ',' ORDER BY (to_jsonb(x) - 'useCount' - 'updatedAt' - 'lastFetchedAt')::text)), '') FROM "${table}" x)`,
  );
  const rows = await t.prisma.$queryRawUnsafe<Array<{ state: string }>>(
    `SELECT ${parts.join(" || ':' || ")} AS state`,
  );
  return rows[0]!.state;
}

/** Raw path segments that are not valid percent-encoding, or decode to something odd. */
const RAW_SEGMENTS = ['%', '%E0%A4%A', '%ED%A0%80', '%00', '..%2F..', '%2e%2e', '%FF%FE'];

function encodeSegment(value: unknown): string {
  return encodeURIComponent(String(value ?? '').replace(/[\uD800-\uDFFF]/g, '\uFFFD'));
}

function pathFor(operation: Operation): fc.Arbitrary<string> {
  const names = Object.keys(operation.pathParameters);
  if (names.length === 0) return fc.constant(operation.path);
  return fc
    .tuple(
      ...names.map((name) =>
        fc.oneof(
          {
            weight: 6,
            arbitrary: validValue(operation.pathParameters[name]!, known, name).map(encodeSegment),
          },
          {
            weight: 3,
            arbitrary: brokenValue(operation.pathParameters[name]!, known, name).map(encodeSegment),
          },
          { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
        ),
      ),
    )
    .map((segments) =>
      names.reduce((path, name, i) => path.replace(`{${name}}`, segments[i]!), operation.path),
    );
}

function requestFor(operation: Operation): fc.Arbitrary<FuzzRequest> {
  const endpointSeeds = seeds.get(`${operation.method} ${operation.path}`) ?? [];
  const generated = operation.body ? bodyValue(operation.body, known) : null;
  const fromSeeds =
    operation.body && endpointSeeds.length > 0
      ? fc.constantFrom(...endpointSeeds).chain((seed) => mutatedSeed(seed, operation.body!, known))
      : null;
  const json =
    generated === null
      ? fc.constant({ kind: 'none' as const })
      : (fromSeeds
          ? fc.oneof({ weight: 3, arbitrary: fromSeeds }, { weight: 2, arbitrary: generated })
          : generated
        ).map((value) => ({ kind: 'json' as const, value }));
  const malformed = fc.oneof(
    fc
      .string({ maxLength: 200 })
      .map((text) => ({ kind: 'text' as const, text, contentType: 'application/json' })),
    fc.constantFrom(
      { kind: 'text' as const, text: '{"a":', contentType: 'application/json' },
      { kind: 'text' as const, text: '[]', contentType: 'application/json' },
      { kind: 'text' as const, text: 'null', contentType: 'application/json' },
      { kind: 'text' as const, text: '{"__proto__":{"admin":true}}', contentType: 'application/json' },
      {
        kind: 'text' as const,
        text: `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
        contentType: 'application/json',
      },
      {
        kind: 'text' as const,
        text: `{"signRequest":{"signKeyName":"fz-ska","x":${'{"x":'.repeat(5_000)}1${'}'.repeat(5_000)}}}`,
        contentType: 'application/json',
      },
      { kind: 'text' as const, text: '{"a":"\\ud800"}', contentType: 'application/json' },
      { kind: 'text' as const, text: '{"\\udc00":1}', contentType: 'application/json' },
      { kind: 'text' as const, text: '<xml/>', contentType: 'application/xml' },
      { kind: 'text' as const, text: 'a=b', contentType: 'application/x-www-form-urlencoded' },
    ),
  );
  return fc.record({
    operation: fc.constant(operation),
    path: pathFor(operation),
    auth: fc.constantFrom<FuzzRequest['auth']>(
      'partition',
      'partition',
      'partition',
      'partition',
      'partition',
      'partition',
      'partition',
      'other-partition',
      'none',
      'garbage',
    ),
    body: fc.oneof({ weight: 8, arbitrary: json }, { weight: 2, arbitrary: malformed }),
  });
}

function injectOptions(request: FuzzRequest): InjectOptions {
  const options: InjectOptions = {
    method: request.operation.method as InjectOptions['method'],
    url: request.path,
    headers: { ...(headers[request.auth] ?? {}) },
  };
  if (request.body.kind === 'json' && request.body.value !== undefined) {
    options.payload = JSON.stringify(request.body.value);
    options.headers = { ...options.headers, 'content-type': 'application/json' };
  } else if (request.body.kind === 'text') {
    options.payload = request.body.text;
    options.headers = { ...options.headers, 'content-type': request.body.contentType };
  }
  return options;
}

async function setUpWorld(): Promise<void> {
  await t.partition(PARTITION, { allowKeyExport: true });
  await t.partition('elsewhere');
  headers = {
    partition: await t.as(PARTITION, [...ALL_ROLES]),
    'other-partition': await t.as('elsewhere', [...ALL_ROLES]),
    none: {},
    garbage: { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.', 'x-api-key': 'not-a-key' },
  };
  const approver = createApprover('P-256');
  const keys: Array<Record<string, unknown>> = [
    {
      label: 'fz-ec',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { sign: true, decrypt: false, unwrap: false, derive: true },
    },
    {
      label: 'fz-ed',
      algorithm: 'ED',
      curveOid: '1.3.101.112',
      attributes: { sign: true, decrypt: false, unwrap: false },
    },
    {
      label: 'fz-rsa',
      algorithm: 'RSA',
      keySize: 2048,
      attributes: { sign: true, decrypt: true, unwrap: true, encrypt: true, wrap: true },
    },
    {
      label: 'fz-aes',
      algorithm: 'AES',
      keySize: 256,
      attributes: {
        sign: false,
        decrypt: true,
        encrypt: true,
        unwrap: true,
        wrap: true,
        extractable: true,
        sensitive: false,
      },
    },
    {
      label: 'fz-hmac',
      algorithm: 'HMACSHA256',
      keySize: 256,
      attributes: { sign: true, decrypt: false, unwrap: false },
    },
    {
      label: 'fz-k1',
      algorithm: 'EC',
      curveOid: '1.3.132.0.10',
      attributes: { sign: true, decrypt: false, unwrap: false, bip32: true, derive: true },
    },
    {
      label: 'fz-ska',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { sign: true, decrypt: false, unwrap: false },
      policy: {
        ruleUse: rule([{ quorum: 1, approvers: [approver] }]),
        ruleBlock: null,
        ruleUnblock: null,
        ruleModify: null,
        keyStatus: { blocked: false },
      },
    },
  ];
  for (const body of keys) {
    const created = await t.call(PARTITION, ['keyManagement'], { method: 'POST', url: '/v1/key', body });
    expect(created.statusCode, created.body).toBe(201);
  }
  const request = await t.call(PARTITION, ['keyOperation'], {
    method: 'POST',
    url: '/v1/sign',
    body: {
      signRequest: { payload: 'AAEC', signKeyName: 'fz-ska', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
    },
  });
  expect(request.statusCode, request.body).toBe(201);
  // what is created lazily on first use (certificates, timestamp keys) exists before the run starts
  for (const url of ['/v1/attestation/certificates']) {
    expect((await t.app.inject({ method: 'GET', url, headers: headers.partition })).statusCode).toBe(200);
  }
  const signedByApprover = approver.sign(Buffer.from('fuzz'));
  await plantSeeds();
  known = {
    keyNames: ['fz-ec', 'fz-ed', 'fz-rsa', 'fz-aes', 'fz-hmac', 'fz-k1', 'fz-ska', 'missing', 'fz-ec/0/1'],
    base64: [
      'AAEC',
      'SGVsbG8=',
      Buffer.alloc(32, 1).toString('base64'),
      signedByApprover.toString('base64'),
      '',
    ],
    uuids: [request.json().signRequestId, randomUUID(), '00000000-0000-0000-0000-000000000000'],
    publicKeys: [approver.publicKey],
  };
}

/** Makes one accepted request per seed (so the seeds stay true) and keeps its body for the run to mutate. */
async function plantSeeds(): Promise<void> {
  const accepted = async (method: 'POST' | 'DELETE', url: string, body: unknown) => {
    const response = await t.app.inject({ method, url, headers: headers.partition, payload: body as object });
    expect(response.statusCode, `seed ${method} ${url}: ${response.body}`).toBeLessThan(400);
    const list = seeds.get(`${method} ${url}`) ?? [];
    list.push(body);
    seeds.set(`${method} ${url}`, list);
    return String(response.headers['content-type']).startsWith('application/json') ? response.json() : {};
  };
  const signRequest = { payload: 'AAEC', signKeyName: 'fz-ec', signatureAlgorithm: 'SHA256_WITH_ECDSA' };
  const { signature } = await accepted('POST', '/v1/synchronousSign', { signRequest });
  await accepted('POST', '/v1/verify', { verifySignatureRequest: { ...signRequest, signature } });
  const encryptRequest = { payload: 'AAECAw==', encryptKeyName: 'fz-aes', cipherAlgorithm: 'AES_GCM' };
  const encrypted = await accepted('POST', '/v1/encrypt', { encryptRequest });
  const decryptRequest = {
    encryptedPayload: encrypted.encryptedPayload,
    decryptKeyName: 'fz-aes',
    cipherAlgorithm: 'AES_GCM',
    initializationVector: encrypted.initializationVector,
  };
  await accepted('POST', '/v1/synchronousDecrypt', { decryptRequest });
  await accepted('POST', '/v1/decrypt', { decryptRequest });
  await accepted('POST', '/v1/synchronousHmac', { hmacRequest: { keyName: 'fz-hmac', payload: 'AAEC' } });
  await accepted('POST', '/v1/sign', { signRequest: { ...signRequest, signKeyName: 'fz-ska' } });
  await accepted('POST', '/v1/key', {
    label: 'fz-new',
    algorithm: 'AES',
    keySize: 256,
    attributes: { decrypt: true, sign: false, unwrap: false },
  });
  for (const label of ['fz-ec', 'fz-rsa']) {
    await accepted('POST', '/v1/key/attributes', { label });
    await accepted('POST', '/v1/key/keyAttestation', { label });
  }
  await accepted('POST', '/v1/key/export/plain', { label: 'fz-aes' });
  await accepted('POST', '/v1/synchronousBlock', { blockRequest: { blockKeyName: 'fz-ed' } });
  await accepted('POST', '/v1/synchronousUnblock', { unblockRequest: { unblockKeyName: 'fz-ed' } });
  await accepted('POST', '/v1/block', { blockRequest: { blockKeyName: 'fz-ed' } });
  await accepted('POST', '/v1/unblock', { unblockRequest: { unblockKeyName: 'fz-ed' } });
  await accepted('POST', '/v1/createRfcTimestamp', {
    data: 'AAEC',
    hashAlgorithm: 'SHA-256',
    nonce: '7',
    certReq: true,
  });
  await accepted('POST', '/v1/filteredRequests', {});
  await accepted('POST', '/v1/certificate/synchronous/selfsign', {
    signKeyName: 'fz-ec',
    signatureAlgorithm: 'SHA256_WITH_ECDSA',
    validity: 30,
    commonName: 'fuzz',
  });
  await accepted('POST', '/v1/certificate/synchronous/request', {
    signKeyName: 'fz-rsa',
    signatureAlgorithm: 'SHA256_WITH_RSA',
    validity: 30,
    standardCertificateAttributes: { commonName: 'fuzz', country: 'CH' },
    keyUsage: ['DIGITAL_SIGNATURE'],
  });
  await accepted('POST', '/v1/derivedKey', { label: 'fz-k1/0/1', newLabel: 'fz-child' });
}

beforeAll(async () => {
  t = await createTestContext();
  await setUpWorld();
}, 120_000);
afterAll(() => t?.close());

describe(`fuzz: ${REQUESTS} generated requests over ${OPERATIONS.length} endpoints (seed ${SEED})`, () => {
  it('answers every request below 500 with the TSB error body, and a refused request changes nothing', async () => {
    const statuses = new Map<string, number>();
    const perEndpoint = new Map<string, { sent: number; accepted: number }>();
    let state = await stateFingerprint();
    const arbitrary = fc.constantFrom(...OPERATIONS).chain(requestFor);
    await fc.assert(
      fc.asyncProperty(arbitrary, async (request) => {
        const response = await t.app.inject(injectOptions(request));
        const endpoint = `${request.operation.method} ${request.operation.path}`;
        const counts = perEndpoint.get(endpoint) ?? { sent: 0, accepted: 0 };
        counts.sent++;
        if (response.statusCode < 400) counts.accepted++;
        perEndpoint.set(endpoint, counts);
        const statusClass = `${Math.floor(response.statusCode / 100)}xx`;
        statuses.set(statusClass, (statuses.get(statusClass) ?? 0) + 1);

        const context = `${endpoint} → ${response.statusCode} ${response.body.slice(0, 300)}`;
        expect(response.statusCode, context).toBeLessThan(500);
        const after = await stateFingerprint();
        if (response.statusCode >= 400) {
          const body = response.json();
          expect(typeof body.errorCode, context).toBe('number');
          expect(typeof body.reason, context).toBe('string');
          expect(typeof body.message, context).toBe('string');
          expect(after, `a refused request changed the stored state: ${context}`).toBe(state);
        }
        state = after;
      }),
      { numRuns: REQUESTS, seed: SEED, endOnFailure: true },
    );
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);

    const lines = [...perEndpoint.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([endpoint, { sent, accepted }]) =>
          `  ${endpoint.padEnd(60)} ${String(sent).padStart(7)} ${String(accepted).padStart(7)}`,
      );
    console.log(
      `fuzz seed ${SEED}: ${REQUESTS} requests, by status ${JSON.stringify(Object.fromEntries(statuses))}\n` +
        `  ${'endpoint'.padEnd(60)} ${'sent'.padStart(7)} ${'2xx/3xx'.padStart(7)}\n${lines.join('\n')}`,
    );
    expect(perEndpoint.size).toBe(OPERATIONS.length);
  });
});
