import https from 'node:https';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '../../src/auth/api-keys.js';
import { ClientCertificateStore, parseClientCertificate } from '../../src/auth/client-certificates.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { createTestPki, type PemPair, type TestPki } from '../helpers/certs.js';
import { runTsb } from '../helpers/cli.js';

/**
 * A running service (the real app, on an mTLS listener, hearing the change feed as `npm start` does) refuses a
 * credential revoked by `tsb` at once, although it keeps valid credentials in memory for 60 s: the revocation is
 * announced by its own transaction, at its commit, and the service drops it when it hears it. Every wait here is far below those 60 s.
 */
let t: TestContext;
let pki: TestPki;
let port: number;
let env: Record<string, string>;
let partitionId: string;

/** Polls for up to 5 s (the credential caches keep an entry for 60 s). */
const until = async (condition: () => Promise<boolean>, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const withApiKey = async (key: string) =>
  (await t.app.inject({ method: 'GET', url: '/v1/generateRandom/8', headers: { 'x-api-key': key } }))
    .statusCode;

function withCertificate(client: PemPair): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/generateRandom/8',
        ca: pki.ca.cert,
        cert: client.cert,
        key: client.key,
        agent: false,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end();
  });
}

async function registerWithTsb(client: PemPair): Promise<{ id: string; fingerprint: string }> {
  const registered = await runTsb(
    env,
    'cert',
    'register',
    '--partition',
    'rev',
    '--roles',
    'service',
    client.certFile,
  );
  expect(registered.code, registered.stderr).toBe(0);
  const fingerprint = parseClientCertificate(client.cert).fingerprint;
  const row = await t.prisma.clientCertificate.findUniqueOrThrow({ where: { fingerprint } });
  return { id: row.id, fingerprint };
}

beforeAll(async () => {
  pki = await createTestPki();
  t = await createTestContext({
    env: {
      TLS_CERT_FILE: pki.server.certFile,
      TLS_KEY_FILE: pki.server.keyFile,
      TLS_CLIENT_CA_FILE: pki.ca.certFile,
    },
  });
  await t.hsm.listenForChanges(t.databaseUrl);
  partitionId = (await t.partition('rev')).id;
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  port = (t.app.server.address() as AddressInfo).port;
  env = { DATABASE_URL: t.databaseUrl };
});
afterAll(async () => {
  await t?.close();
  await pki?.cleanup();
});

describe('revocation reaches a running service at once', () => {
  it('refuses an API key revoked with `tsb apikey revoke`; another key keeps working', async () => {
    const revoked = await createApiKey(t.prisma, partitionId, 'service');
    const kept = await createApiKey(t.prisma, partitionId, 'service');
    // both are now in the service's cache
    expect(await withApiKey(revoked.key)).toBe(200);
    expect(await withApiKey(kept.key)).toBe(200);

    const result = await runTsb(env, 'apikey', 'revoke', revoked.id);
    expect(result.code, result.stderr).toBe(0);
    await until(async () => (await withApiKey(revoked.key)) === 401);
    expect(await withApiKey(kept.key)).toBe(200);
  });

  it('refuses a client certificate revoked with `tsb cert revoke` (by id or fingerprint); another keeps working', async () => {
    const byId = await registerWithTsb(pki.client);
    const byFingerprint = await registerWithTsb(pki.client3);
    await registerWithTsb(pki.client2);
    for (const client of [pki.client, pki.client2, pki.client3])
      expect(await withCertificate(client)).toBe(200);

    expect((await runTsb(env, 'cert', 'revoke', byId.id)).code).toBe(0);
    await until(async () => (await withCertificate(pki.client)) === 401);
    expect((await runTsb(env, 'cert', 'revoke', byFingerprint.fingerprint)).code).toBe(0);
    await until(async () => (await withCertificate(pki.client3)) === 401);
    expect(await withCertificate(pki.client2)).toBe(200);
  });

  it('hears a revocation whose process dies right after the commit (the announcement is part of it)', async () => {
    // a client whose statements outside a transaction fail: what a process killed after its commit leaves undone
    const diesAfterCommit = new Proxy(t.prisma, {
      get: (target, property, receiver) =>
        property === '$executeRaw' || property === '$executeRawUnsafe'
          ? () => Promise.reject(new Error('killed after the commit'))
          : Reflect.get(target, property, receiver),
    });
    const key = await createApiKey(t.prisma, partitionId, 'service');
    expect(await withApiKey(key.key)).toBe(200);
    await revokeApiKey(diesAfterCommit, key.id);
    await until(async () => (await withApiKey(key.key)) === 401);

    // client2 is registered (and cached) by the test before, or here when this one runs alone
    const fingerprint = parseClientCertificate(pki.client2.cert).fingerprint;
    const registered = await t.prisma.clientCertificate.findUnique({ where: { fingerprint } });
    const id = registered?.id ?? (await registerWithTsb(pki.client2)).id;
    expect(await withCertificate(pki.client2)).toBe(200);
    await new ClientCertificateStore(diesAfterCommit).revoke(id);
    await until(async () => (await withCertificate(pki.client2)) === 401);
  });

  it('does not serve a cached credential after the feed dropped: a revocation it may have missed counts', async () => {
    const key = await createApiKey(t.prisma, partitionId, 'service');
    expect(await withApiKey(key.key)).toBe(200);
    const admin = new pg.Client({ connectionString: t.databaseUrl });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN opentsb_metadata_changes'`,
      );
      expect(rows).toHaveLength(1);
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      // revoked without an announcement, as if its notification were lost while the feed was down
      await t.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    } finally {
      await admin.end();
    }
    await until(async () => (await withApiKey(key.key)) === 401);
  });
});
