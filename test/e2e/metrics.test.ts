import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { createApprover, rule } from '../helpers/approvers.js';

const P = 'metered';
const SECRET_LABEL = 'label-that-must-not-be-a-metric-label';
const REQUEST_ID = 'request-id-that-must-not-be-a-label';
const signOnly = { decrypt: false, sign: true, unwrap: false };

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not an exposition line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

function sampleValue(
  samples: Sample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )?.value;
}

async function scrape(t: TestContext, headers: Record<string, string> = {}) {
  const response = await t.app.inject({ method: 'GET', url: '/metrics', headers });
  expect(response.statusCode, response.body).toBe(200);
  expect(response.headers['content-type']).toContain('text/plain');
  return { text: response.body, samples: parseExposition(response.body) };
}

describe('GET /metrics', () => {
  let t: TestContext;
  let skaRequestId: string;

  beforeAll(async () => {
    t = await createTestContext();
    await t.partition(P);
    const manage = (body: object) => t.call(P, ['keyManagement'], { method: 'POST', url: '/v1/key', body });
    for (const body of [
      { label: 'ec', algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7', attributes: signOnly },
      {
        label: 'aes',
        algorithm: 'AES',
        keySize: 256,
        attributes: { ...signOnly, sign: false, decrypt: true },
      },
      {
        label: 'ska',
        algorithm: 'ED',
        attributes: signOnly,
        policy: {
          ruleUse: rule([{ quorum: 1, approvers: [createApprover()] }]),
          keyStatus: { blocked: false },
        },
      },
    ]) {
      const created = await manage(body);
      expect(created.statusCode, created.body).toBe(201);
    }
    const operate = (url: string, body: object) => t.call(P, ['keyOperation'], { method: 'POST', url, body });
    const payload = Buffer.from('metered payload').toString('base64');
    for (let i = 0; i < 3; i++) {
      const signed = await operate('/v1/synchronousSign', {
        signRequest: { payload, signKeyName: 'ec', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
      });
      expect(signed.statusCode, signed.body).toBe(200);
      // the operation really ran: the signature verifies with node:crypto under the key's public key
      const attributes = await t.call(P, ['keyManagement'], {
        method: 'POST',
        url: '/v1/key/attributes',
        body: { label: 'ec' },
      });
      const publicKey = createPublicKey({
        key: Buffer.from(attributes.json().json.publicKey, 'base64'),
        format: 'der',
        type: 'spki',
      });
      expect(
        verify(
          'sha256',
          Buffer.from(payload, 'base64'),
          publicKey,
          Buffer.from(signed.json().signature, 'base64'),
        ),
      ).toBe(true);
    }
    const encrypted = await operate('/v1/encrypt', {
      encryptRequest: { payload, encryptKeyName: 'aes', cipherAlgorithm: 'AES_GCM' },
    });
    expect(encrypted.statusCode, encrypted.body).toBe(200);
    const requested = await operate('/v1/sign', {
      signRequest: { payload, signKeyName: 'ska', signatureAlgorithm: 'EDDSA' },
    });
    expect(requested.statusCode, requested.body).toBe(201);
    skaRequestId = requested.json().signRequestId;
    // a refused request naming a key and carrying a request id: neither may become a label value
    const missing = await t.app.inject({
      method: 'GET',
      url: `/v1/key/${SECRET_LABEL}/attributes`,
      headers: { ...(await t.as(P, ['keyManagement'])), 'x-request-id': REQUEST_ID },
    });
    expect(missing.statusCode).toBe(404);
    const unrouted = await t.app.inject({ method: 'GET', url: `/no-such-route/${SECRET_LABEL}` });
    expect(unrouted.statusCode).toBe(404);
  });
  afterAll(() => t?.close());

  it('counts requests and latency per method, route pattern and status code', async () => {
    const { samples } = await scrape(t);
    const sign = { method: 'POST', route: '/v1/synchronousSign', status_code: '200' };
    expect(sampleValue(samples, 'tsb_http_requests_total', sign)).toBe(3);
    expect(sampleValue(samples, 'tsb_http_request_duration_seconds_count', sign)).toBe(3);
    expect(sampleValue(samples, 'tsb_http_request_duration_seconds_bucket', { ...sign, le: '+Inf' })).toBe(3);
    expect(sampleValue(samples, 'tsb_http_request_duration_seconds_bucket', { ...sign, le: '30' })).toBe(3);
    expect(sampleValue(samples, 'tsb_http_request_duration_seconds_sum', sign)).toBeGreaterThan(0);
    const route = { method: 'GET', route: '/v1/key/:keyName/attributes', status_code: '404' };
    expect(sampleValue(samples, 'tsb_http_requests_total', route)).toBe(1);
    expect(
      sampleValue(samples, 'tsb_http_requests_total', {
        method: 'GET',
        route: 'unmatched',
        status_code: '404',
      }),
    ).toBe(1);
  });

  it('never puts a key name, URL or request id into a label value', async () => {
    const { text, samples } = await scrape(t);
    expect(text).not.toContain(SECRET_LABEL);
    expect(text).not.toContain(REQUEST_ID);
    const routes = new Set(
      samples.map((sample) => sample.labels.route).filter((route) => route !== undefined),
    );
    for (const route of routes) expect(route === 'unmatched' || route.startsWith('/'), route).toBe(true);
    expect([...routes].some((route) => route.includes('ec') && !route.includes(':'))).toBe(false);
  });

  it('counts HSM operations per operation and key algorithm', async () => {
    const { samples } = await scrape(t);
    expect(sampleValue(samples, 'tsb_hsm_operations_total', { operation: 'sign', algorithm: 'EC' })).toBe(3);
    expect(sampleValue(samples, 'tsb_hsm_operations_total', { operation: 'encrypt', algorithm: 'AES' })).toBe(
      1,
    );
    // the SKA request waits for its approval: nothing signed with that key yet
    expect(
      sampleValue(samples, 'tsb_hsm_operations_total', { operation: 'sign', algorithm: 'ED' }),
    ).toBeUndefined();
  });

  it('observes the duration of HSM operations per operation and key algorithm', async () => {
    const { samples } = await scrape(t);
    const ecSign = { operation: 'sign', algorithm: 'EC' };
    expect(sampleValue(samples, 'tsb_hsm_operation_seconds_count', ecSign)).toBe(3);
    expect(sampleValue(samples, 'tsb_hsm_operation_seconds_bucket', { ...ecSign, le: '+Inf' })).toBe(3);
    expect(sampleValue(samples, 'tsb_hsm_operation_seconds_bucket', { ...ecSign, le: '5' })).toBe(3);
    const seconds = sampleValue(samples, 'tsb_hsm_operation_seconds_sum', ecSign)!;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(5);
    const aesEncrypt = { operation: 'encrypt', algorithm: 'AES' };
    expect(sampleValue(samples, 'tsb_hsm_operation_seconds_count', aesEncrypt)).toBe(1);
    // the request waiting for its approval has not run
    expect(
      sampleValue(samples, 'tsb_hsm_operation_seconds_count', { operation: 'sign', algorithm: 'ED' }),
    ).toBeUndefined();
  });

  it('reports the key cache as the HSM core counts it', async () => {
    const { samples } = await scrape(t);
    const cache = t.hsm.keyCacheStatistics();
    // three signs with one key: the first unseals it, the next two are served from the cache
    expect(cache.hits).toBeGreaterThanOrEqual(2);
    expect(sampleValue(samples, 'tsb_key_cache_hits_total')).toBe(cache.hits);
    expect(sampleValue(samples, 'tsb_key_cache_misses_total')).toBe(cache.misses);
    expect(sampleValue(samples, 'tsb_key_cache_entries')).toBe(cache.size);
    expect(sampleValue(samples, 'tsb_key_cache_capacity')).toBe(100);
  });

  it('reports the workflow queue depth by state', async () => {
    const { samples } = await scrape(t);
    expect(sampleValue(samples, 'tsb_workflow_queue_up')).toBe(1);
    const counts = await t.app.workflow.queue.jobCounts();
    for (const [state, count] of Object.entries(counts)) {
      expect(sampleValue(samples, 'tsb_workflow_queue_jobs', { state }), state).toBe(count);
    }
  });

  it('reports SKA requests by status from a grouped count, cached between scrapes', async () => {
    const { samples } = await scrape(t);
    expect(sampleValue(samples, 'tsb_ska_requests', { status: 'PENDING' })).toBe(1);
    expect(sampleValue(samples, 'tsb_ska_requests', { status: 'EXECUTED' })).toBe(0);
    const cancelled = await t.call(P, ['keyOperation'], {
      method: 'DELETE',
      url: `/v1/request/${skaRequestId}`,
    });
    expect(cancelled.statusCode, cancelled.body).toBeLessThan(300);
    // the count is at most 10 s old: the scrape right after still shows the snapshot
    const again = await scrape(t);
    expect(sampleValue(again.samples, 'tsb_ska_requests', { status: 'PENDING' })).toBe(1);
    expect(sampleValue(again.samples, 'tsb_ska_requests', { status: 'CANCELLED' })).toBe(0);
  });

  it('includes the process metrics and the build info', async () => {
    const { samples } = await scrape(t);
    expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'nodejs_eventloop_lag_seconds')).toBeDefined();
    expect(sampleValue(samples, 'tsb_build_info', { role: 'api' })).toBe(1);
  });

  it('keeps one registry per app: another app in this process counts only its own requests', async () => {
    const other = await createTestContext({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const began = Date.now();
      const { samples } = await scrape(other);
      expect(Date.now() - began).toBeLessThan(2_000);
      expect(
        sampleValue(samples, 'tsb_http_requests_total', { route: '/v1/synchronousSign' }),
      ).toBeUndefined();
      expect(sampleValue(samples, 'tsb_hsm_operations_total')).toBeUndefined();
      // Redis unreachable: the queue is reported down and its depth absent, the scrape still answers
      expect(sampleValue(samples, 'tsb_workflow_queue_up')).toBe(0);
      expect(sampleValue(samples, 'tsb_workflow_queue_jobs')).toBeUndefined();
      expect(sampleValue(samples, 'tsb_ska_requests', { status: 'PENDING' })).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe('GET /metrics with TSB_METRICS_TOKEN', () => {
  const token = 'metrics-token-0123456789abcdef';
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext({ env: { TSB_METRICS_TOKEN: token } });
  });
  afterAll(() => t?.close());

  it('asks for the bearer token and refuses any other credential', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ errorCode: 406 });
    const wrong = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${token}x` },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ errorCode: 617 });
    // a TSB credential of a partition is not the metrics token
    const jwt = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: await t.as('any', ['service']),
    });
    expect(jwt.statusCode).toBe(401);
    const { samples } = await scrape(t, { authorization: `Bearer ${token}` });
    expect(sampleValue(samples, 'tsb_http_requests_total', { route: '/metrics', status_code: '401' })).toBe(
      3,
    );
  });
});

describe('GET /metrics in production mode', () => {
  it('answers 401 without TSB_METRICS_TOKEN, and says how to open it', async () => {
    const logLines: string[] = [];
    const t = await createTestContext({ env: { NODE_ENV: 'production' }, logLines });
    try {
      const closed = await t.app.inject({ method: 'GET', url: '/metrics' });
      expect(closed.statusCode).toBe(401);
      expect(closed.json()).toMatchObject({ errorCode: 406 });
      expect(closed.json().message).toContain('TSB_METRICS_TOKEN');
      expect(closed.json().message).toContain('TSB_METRICS_PUBLIC=true');
      // a TSB credential does not open it either
      const jwt = await t.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: await t.as('any', ['service']),
      });
      expect(jwt.statusCode).toBe(401);
      // the operator was told at start-up
      const warnings = logLines.map((line) => JSON.parse(line)).filter((line) => line.level === 40);
      expect(warnings.map((line) => line.msg)).toContainEqual(expect.stringContaining('/metrics is closed'));
    } finally {
      await t.close();
    }
  });

  it('is open with TSB_METRICS_PUBLIC=true', async () => {
    const t = await createTestContext({ env: { NODE_ENV: 'production', TSB_METRICS_PUBLIC: 'true' } });
    try {
      await scrape(t);
    } finally {
      await t.close();
    }
  });
});
