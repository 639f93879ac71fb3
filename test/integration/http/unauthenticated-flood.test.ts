/**
 * A flood of requests without valid credentials: the client address is rate-limited (429) past its
 * threshold, other addresses and authenticated callers are not, and the refusals reach the audit log
 * as a bounded number of counted summaries, in the service chain, that verify.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../../src/app.js';
import type { Config } from '../../../src/config.js';
import { AuditRepository } from '../../../src/features/audit/audit.repository.js';
import { AuditService, attestationCheckpointSigner } from '../../../src/features/audit/audit.service.js';
import { verifyAuditLog } from '../../../src/features/audit/audit-verifier.js';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { issueTestToken } from '../../helpers/tokens.js';

// a long window, so that a burst slowed down by a loaded machine still fits in one
const WINDOW_SECONDS = 3600;
const BURST_MARGIN_MS = 45_000;
const THRESHOLD = 10;
const FLOODER = '203.0.113.7';
const BYSTANDER = '198.51.100.1';

let t: TestContext;

beforeAll(async () => {
  t = await createTestContext({
    env: {
      TSB_RATE_LIMIT_UNAUTHENTICATED_MAX: String(THRESHOLD),
      TSB_RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
      // the summaries are flushed when the app closes: one window for the whole test
      TSB_AUDIT_REFUSAL_WINDOW_SECONDS: '3600',
    },
  });
  await t.partition('flooded');
});
afterAll(async () => {
  await t?.close();
});

async function appWith(config: Readonly<Config>): Promise<App> {
  const app = await buildApp({ config, prisma: t.prisma, hsm: t.hsm, logger: false });
  await app.ready();
  return app;
}

/** Starts a burst early in a fixed window of the rate limit, so that it cannot straddle two windows. */
async function atWindowStart(): Promise<void> {
  const into = Date.now() % (WINDOW_SECONDS * 1000);
  if (into > WINDOW_SECONDS * 1000 - BURST_MARGIN_MS) await sleep(WINDOW_SECONDS * 1000 - into + 10);
}

const unauthenticated = (app: App, remoteAddress: string, i: number) =>
  app.inject({
    method: 'GET',
    url: '/v1/key',
    remoteAddress,
    // half without credentials, half with a token that is not one
    headers: i % 2 === 0 ? {} : { authorization: 'Bearer not-a-token' },
  });

const summaries = async () =>
  (
    await t.prisma.auditEntry.findMany({
      where: { chain: 'service', clientAddress: { not: null } },
      orderBy: { sequence: 'asc' },
    })
  ).map((row) => ({
    clientAddress: row.clientAddress,
    statusCode: row.statusCode,
    errorCode: row.errorCode,
    count: row.count!,
    firstAt: row.firstAt!,
    at: row.at,
  }));

const serviceRows = () => t.prisma.auditEntry.count({ where: { chain: 'service' } });

describe('a flood of unauthenticated requests', () => {
  it('is rate-limited per address and logged as a bounded number of counted summaries that verify', async () => {
    const N = 300;
    const app = await appWith(t.config);
    const rowsBefore = await serviceRows();
    await atWindowStart();
    const statuses: number[] = [];
    try {
      for (let i = 0; i < N; i++) statuses.push((await unauthenticated(app, FLOODER, i)).statusCode);
      expect(statuses.slice(0, THRESHOLD)).toEqual(Array(THRESHOLD).fill(401));
      expect(statuses.slice(THRESHOLD)).toEqual(Array(N - THRESHOLD).fill(429));
      const limited = await unauthenticated(app, FLOODER, 0);
      expect(limited.json()).toMatchObject({ errorCode: 900, reason: 'res.error.rate.limit.exceeded' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(WINDOW_SECONDS);
      expect(limited.headers['ratelimit-policy']).toBe(`"address";q=${THRESHOLD};w=${WINDOW_SECONDS}`);
      expect(limited.headers['ratelimit']).toBe(`"address";r=0;t=${limited.headers['retry-after']}`);

      // another address is not limited, and neither is a caller with valid credentials from the flooder's
      const other = await unauthenticated(app, BYSTANDER, 0);
      expect(other.statusCode).toBe(401);
      const token = await issueTestToken(t.config, 'flooded', ['service'], 'alice');
      const authenticated = await app.inject({
        method: 'GET',
        url: '/v1/versionInfo',
        remoteAddress: FLOODER,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(authenticated.statusCode).toBe(200);
      // nothing of the flood is a row yet: it is counted in memory until the window ends
      expect(await serviceRows()).toBe(rowsBefore);
    } finally {
      await app.close(); // ends the window: the summaries are written
    }

    const written = await summaries();
    // N + 1 refusals of the flooder and 1 of the bystander in 4 rows: one per (address, status, errorCode)
    expect(await serviceRows()).toBe(rowsBefore + 4);
    expect(
      written.map(({ clientAddress, statusCode, errorCode, count }) => ({
        clientAddress,
        statusCode,
        errorCode,
        count,
      })),
    ).toEqual(
      expect.arrayContaining([
        { clientAddress: FLOODER, statusCode: 401, errorCode: 406, count: THRESHOLD / 2 },
        { clientAddress: FLOODER, statusCode: 401, errorCode: 617, count: THRESHOLD / 2 },
        { clientAddress: FLOODER, statusCode: 429, errorCode: 900, count: N - THRESHOLD + 1 },
      ]),
    );
    const flooder = written.filter((row) => row.clientAddress === FLOODER);
    expect(flooder.reduce((sum, row) => sum + row.count, 0)).toBe(N + 1);
    expect(written.filter((row) => row.clientAddress === BYSTANDER)).toEqual([
      expect.objectContaining({ statusCode: 401, errorCode: 406, count: 1 }),
    ]);
    for (const row of written) expect(row.firstAt.getTime()).toBeLessThanOrEqual(row.at.getTime());

    // the summaries are entries of the service chain, whose export verifies
    const service = new AuditService(
      new AuditRepository(t.prisma),
      attestationCheckpointSigner(t.hsm),
      t.hsm.clock,
      t.config.audit.checkpointEvery,
    );
    let text = '';
    for await (const chunk of await service.export(null)) text += chunk;
    const report = verifyAuditLog(text);
    expect(report).toMatchObject({ valid: true, chain: 'service', problems: [] });
    const lines = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const counted = lines
      .filter((line) => line.type === 'entry' && line.summary?.clientAddress === FLOODER)
      .reduce((sum, line) => sum + line.summary.count, 0);
    expect(counted).toBe(N + 1);
    // an edited count is found like any other edit
    const edited = lines.map((line) =>
      line.type === 'entry' && line.summary?.clientAddress === FLOODER
        ? { ...line, summary: { ...line.summary, count: 1 } }
        : line,
    );
    const tampered = verifyAuditLog(edited.map((line) => JSON.stringify(line)).join('\n'));
    expect(tampered.problems[0]).toMatchObject({ kind: 'edited' });
  });

  it('adds at most TSB_AUDIT_REFUSAL_MAX_ADDRESSES (+ one per reason) rows per window, however many addresses', async () => {
    const MAX_ADDRESSES = 5;
    const ADDRESSES = 60;
    const app = await appWith({
      ...t.config,
      audit: { ...t.config.audit, refusalSummary: { windowSeconds: 3600, maxAddresses: MAX_ADDRESSES } },
    });
    const rowsBefore = await serviceRows();
    const before = new Set((await summaries()).map((row) => JSON.stringify(row)));
    try {
      for (let a = 0; a < ADDRESSES; a++)
        for (let i = 0; i < 3; i++)
          expect((await unauthenticated(app, `192.0.2.${a + 1}`, 0)).statusCode).toBe(401);
    } finally {
      await app.close();
    }
    const rows = (await summaries()).filter((row) => !before.has(JSON.stringify(row)));
    expect(await serviceRows()).toBe(rowsBefore + rows.length);
    expect(rows.length).toBeLessThanOrEqual(MAX_ADDRESSES + 1);
    expect(rows.reduce((sum, row) => sum + row.count, 0)).toBe(ADDRESSES * 3);
    expect(rows.filter((row) => row.clientAddress === '*')).toEqual([
      expect.objectContaining({ count: (ADDRESSES - MAX_ADDRESSES) * 3 }),
    ]);
  });
});
