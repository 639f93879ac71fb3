import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseClientCertificate } from '../../../src/auth/client-certificates.js';
import { createJwtIssuer } from '../../../src/auth/jwt-issuer.js';
import { loadJwtKeys } from '../../../src/auth/jwt-keys.js';
import { type Config, loadConfig } from '../../../src/config.js';
import type { Partition } from '../../../src/generated/prisma/client.js';
import { PartitionStore } from '../../../src/keystore/partitions/partition-store.js';
import { createTestPki, type PemPair, type TestPki } from '../../helpers/certs.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { buildAuthTestApp } from './test-app.js';

let db: TestDatabase;
let pki: TestPki;
let dataDir: string;
let config: Readonly<Config>;
let app: FastifyInstance;
let port: number;
let tenantA: Partition;
let tenantB: Partition;

/** The server's TLS alert (TLS 1.3 sends it after the client's Finished) or the reset that follows. */
const TLS_REFUSED = /^(ERR_SSL_|ECONNRESET$|EPIPE$)/;

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

function call(
  urlPath: string,
  client: PemPair | null,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method,
        ca: pki.ca.cert,
        headers,
        agent: false,
        ...(client ? { cert: client.cert, key: client.key } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : {} });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end();
  });
}

beforeAll(async () => {
  [db, pki, dataDir] = await Promise.all([
    createTestDatabase(),
    createTestPki(),
    mkdtemp(path.join(tmpdir(), 'opentsb-mtls-')),
  ]);
  config = loadConfig({ DATABASE_URL: db.url, TSB_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const partitions = new PartitionStore(db.prisma, randomBytes(32));
  [tenantA, tenantB] = await Promise.all([partitions.create('tenant-a'), partitions.create('tenant-b')]);
  ({ app } = await buildAuthTestApp({
    prisma: db.prisma,
    config,
    https: {
      key: pki.server.key,
      cert: pki.server.cert,
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: true,
    },
  }));
  await app.authenticator.certificates.register(tenantA.id, pki.client.cert, ['keyManagement']);
  await app.authenticator.certificates.register(
    tenantA.id,
    Buffer.from(new X509Certificate(pki.client2.cert).raw),
    'service',
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
  await pki?.cleanup();
  await rm(dataDir, { recursive: true, force: true });
});

describe('mutual TLS', () => {
  it('authenticates a registered client certificate by its SHA-256 fingerprint', async () => {
    const reply = await call('/km', pki.client);
    expect(reply.status).toBe(200);
    const fingerprint = parseClientCertificate(pki.client.cert).fingerprint;
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(reply.body).toMatchObject({
      partition: 'tenant-a',
      roles: ['keyManagement'],
      credentials: [{ method: 'mtls', id: fingerprint }],
    });
    const row = await db.prisma.clientCertificate.findUniqueOrThrow({ where: { fingerprint } });
    expect(row.subject).toContain('CN=client');
  });

  it('refuses a registered certificate without the role: 403, errorCode 400', async () => {
    const reply = await call('/km', pki.client2);
    expect(reply.status).toBe(403);
    expect(reply.body['errorCode']).toBe(400);
    expect((await call('/ko', pki.client2, {}, 'POST')).status).toBe(200);
  });

  it('refuses the TLS handshake for a certificate of another CA', async () => {
    await expect(call('/km', pki.foreignClient)).rejects.toMatchObject({
      code: expect.stringMatching(TLS_REFUSED),
    });
  });

  it('refuses the TLS handshake without a client certificate', async () => {
    await expect(call('/km', null)).rejects.toMatchObject({ code: expect.stringMatching(TLS_REFUSED) });
  });

  it('refuses a trusted but unregistered certificate alone (618) and lets it carry a JWT', async () => {
    const alone = await call('/km', pki.client3);
    expect(alone.status).toBe(401);
    expect(alone.body['errorCode']).toBe(618);
    const jwt = await createJwtIssuer(config, { keys: loadJwtKeys(config) }).issueToken({
      partition: 'tenant-b',
      roles: ['keyManagement'],
      ttlSeconds: 60,
    });
    const withToken = await call('/km', pki.client3, { authorization: `Bearer ${jwt}` });
    expect(withToken.status).toBe(200);
    expect(withToken.body['partition']).toBe('tenant-b');
  });

  it('unites certificate and JWT roles of one partition, and refuses a JWT of another partition (618)', async () => {
    const issuer = createJwtIssuer(config);
    const same = await call('/km', pki.client2, {
      authorization: `Bearer ${await issuer.issueToken({ partition: 'tenant-a', roles: ['keyManagement'], ttlSeconds: 60 })}`,
    });
    expect(same.status).toBe(200);
    expect(same.body['roles']).toEqual(['keyManagement', 'service']);
    const other = await call('/km', pki.client, {
      authorization: `Bearer ${await issuer.issueToken({ partition: 'tenant-b', roles: ['keyManagement'], ttlSeconds: 60 })}`,
    });
    expect(other.status).toBe(401);
    expect(other.body['errorCode']).toBe(618);
  });

  it('refuses a certificate registered twice and a revoked certificate', async () => {
    await expect(
      app.authenticator.certificates.register(tenantB.id, pki.client.cert, ['service']),
    ).rejects.toThrow(/already registered/);
    const registered = await app.authenticator.certificates.register(tenantB.id, pki.client3.cert, [
      'keyManagement',
    ]);
    expect((await call('/km', pki.client3)).status).toBe(200);
    expect(await app.authenticator.certificates.revoke(registered.id)).toBe(true);
    const reply = await call('/km', pki.client3);
    expect(reply.status).toBe(401);
    expect(reply.body['errorCode']).toBe(618);
  });
});
