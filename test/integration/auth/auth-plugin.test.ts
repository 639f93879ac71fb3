import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../src/auth/api-keys.js';
import { createJwtIssuer } from '../../../src/auth/jwt-issuer.js';
import type { Role } from '../../../src/auth/roles.js';
import { type Config, loadConfig } from '../../../src/config.js';
import type { Partition } from '../../../src/generated/prisma/client.js';
import { PartitionStore } from '../../../src/keystore/partitions/partition-store.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { buildAuthTestApp } from './test-app.js';

let db: TestDatabase;
let dataDir: string;
let config: Readonly<Config>;
let app: FastifyInstance;
let logs: string[];
let tenantA: Partition;
let tenantB: Partition;

const token = (partition: string, roles: Role[]) =>
  createJwtIssuer(config).issueToken({ partition, roles, ttlSeconds: 300 });
const bearer = async (partition: string, roles: Role[]) => ({
  authorization: `Bearer ${await token(partition, roles)}`,
});
const apiKey = async (partition: Partition, role: Role) =>
  (await app.authenticator.apiKeys.create(partition.id, role)).key;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'opentsb-auth-'));
  config = loadConfig({ DATABASE_URL: db.url, TSB_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const partitions = new PartitionStore(db.prisma, randomBytes(32));
  [tenantA, tenantB] = await Promise.all([partitions.create('tenant-a'), partitions.create('tenant-b')]);
  ({ app, logs } = await buildAuthTestApp({ prisma: db.prisma, config }));
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('auth plugin: JWT', () => {
  it('lets a bearer token with the role through and sets request.caller', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/km',
      headers: await bearer('tenant-a', ['keyManagement']),
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ partition: 'tenant-a', partitionId: tenantA.id, roles: ['keyManagement'] });
    // the token's subject is the partition name, which names no person: the token is its own principal
    const jti = expect.stringMatching(/^[0-9a-f-]{36}$/);
    expect(body.credentials).toEqual([{ method: 'jwt', id: jti, principal: jti }]);
  });

  it('accepts any one of the listed roles', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/ko',
      headers: await bearer('tenant-a', ['service']),
    });
    expect(response.statusCode).toBe(200);
  });

  it('refuses a caller without the role: 403, errorCode 400', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/km',
      headers: await bearer('tenant-a', ['keyOperation']),
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ errorCode: 400, reason: 'res.error.security.not.allowed' });
    expect(response.json().message).toMatch(/keyManagement/);
  });

  it('refuses a bad token (617), a malformed header (617) and a token for an unknown partition (617)', async () => {
    for (const authorization of [
      'Bearer not.a.jwt',
      'Basic dXNlcjpwYXNz',
      'Bearer',
      `Bearer ${await token('ghost', ['service'])}`,
    ]) {
      const response = await app.inject({ method: 'GET', url: '/km', headers: { authorization } });
      expect(response.statusCode, authorization).toBe(401);
      expect(response.json()).toMatchObject({ errorCode: 617, reason: 'res.error.invalid.access.token' });
    }
  });

  it('refuses a request without credentials: 401, errorCode 406, naming the accepted methods', async () => {
    const response = await app.inject({ method: 'GET', url: '/km' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ errorCode: 406, reason: 'res.error.missing.access.token' });
    expect(response.json().message).toMatch(/Bearer.*X-API-KEY.*certificate/);
  });

  it('serves public routes without credentials (caller null) and refuses undeclared routes with a warning', async () => {
    const open = await app.inject({ method: 'GET', url: '/public' });
    expect(open.statusCode).toBe(200);
    expect(open.json().partition).toBeNull();
    const undeclared = await app.inject({
      method: 'GET',
      url: '/undeclared',
      headers: await bearer('tenant-a', ['keyManagement']),
    });
    expect(undeclared.statusCode).toBe(403);
    expect(undeclared.json().errorCode).toBe(400);
    expect(logs.some((line) => line.includes('"level":40') && line.includes('declares no config.auth'))).toBe(
      true,
    );
  });

  it('leaves unknown routes to the not-found handler', async () => {
    expect((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode).toBe(404);
  });
});

describe('auth plugin: API keys', () => {
  it('accepts a valid key and identifies it by row id', async () => {
    const key = await apiKey(tenantA, 'keyManagement');
    const response = await app.inject({ method: 'GET', url: '/km', headers: { 'x-api-key': key } });
    expect(response.statusCode).toBe(200);
    const row = await db.prisma.apiKey.findUniqueOrThrow({ where: { keyHash: hashApiKey(key) } });
    expect(response.json()).toMatchObject({
      partition: 'tenant-a',
      roles: ['keyManagement'],
      credentials: [{ method: 'apiKey', id: row.id }],
    });
  });

  it('refuses an unknown key and a malformed key: 401, errorCode 631', async () => {
    for (const key of [`tsb-x-token_${randomBytes(32).toString('base64url')}`, 'letmein']) {
      const response = await app.inject({ method: 'GET', url: '/km', headers: { 'x-api-key': key } });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ errorCode: 631, reason: 'res.error.invalid.api.key' });
    }
  });

  it('refuses a revoked key', async () => {
    const created = await app.authenticator.apiKeys.create(tenantA.id, 'keyManagement');
    expect(
      (await app.inject({ method: 'GET', url: '/km', headers: { 'x-api-key': created.key } })).statusCode,
    ).toBe(200);
    expect(await app.authenticator.apiKeys.revoke(created.id)).toBe(true);
    const response = await app.inject({ method: 'GET', url: '/km', headers: { 'x-api-key': created.key } });
    expect(response.statusCode).toBe(401);
    expect(response.json().errorCode).toBe(631);
  });

  it('refuses an empty X-API-KEY header with errorCode 416', async () => {
    const response = await app.inject({ method: 'GET', url: '/km', headers: { 'x-api-key': ' , ' } });
    expect(response.statusCode).toBe(401);
    expect(response.json().errorCode).toBe(416);
  });

  it('takes several keys in one header (comma-separated or repeated) and unites their roles', async () => {
    const km = await apiKey(tenantA, 'keyManagement');
    const svc = await apiKey(tenantA, 'service');
    for (const header of [`${km},${svc}`, `${km}, ${svc}`, [km, svc]]) {
      const response = await app.inject({ method: 'GET', url: '/km', headers: { 'x-api-key': header } });
      expect(response.statusCode).toBe(200);
      expect(response.json().roles).toEqual(['keyManagement', 'service']);
      expect(response.json().credentials).toHaveLength(2);
    }
  });

  it('refuses the whole header when one key is bad (631)', async () => {
    const km = await apiKey(tenantA, 'keyManagement');
    const response = await app.inject({
      method: 'GET',
      url: '/km',
      headers: { 'x-api-key': `${km}, tsb-x-token_${randomBytes(32).toString('base64url')}` },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().errorCode).toBe(631);
  });

  it('refuses keys of two partitions: 401, errorCode 618', async () => {
    const a = await apiKey(tenantA, 'keyManagement');
    const b = await apiKey(tenantB, 'keyManagement');
    const response = await app.inject({ method: 'GET', url: '/km', headers: { 'x-api-key': `${a},${b}` } });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({
      errorCode: 618,
      reason: 'res.error.insufficient.login.information',
    });
  });

  it('combines a JWT with an API key of the same partition, and refuses one of another partition', async () => {
    const svc = await apiKey(tenantA, 'service');
    const combined = await app.inject({
      method: 'GET',
      url: '/km',
      headers: { ...(await bearer('tenant-a', ['keyManagement'])), 'x-api-key': svc },
    });
    expect(combined.statusCode).toBe(200);
    expect(combined.json().roles).toEqual(['keyManagement', 'service']);
    expect(combined.json().credentials.map((c: { method: string }) => c.method)).toEqual(['jwt', 'apiKey']);

    const foreign = await apiKey(tenantB, 'keyManagement');
    const mixed = await app.inject({
      method: 'GET',
      url: '/km',
      headers: { ...(await bearer('tenant-a', ['keyManagement'])), 'x-api-key': foreign },
    });
    expect(mixed.statusCode).toBe(401);
    expect(mixed.json().errorCode).toBe(618);
  });

  it('an invalid JWT next to a valid API key still fails (617)', async () => {
    const km = await apiKey(tenantA, 'keyManagement');
    const response = await app.inject({
      method: 'GET',
      url: '/km',
      headers: { authorization: 'Bearer x.y.z', 'x-api-key': km },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().errorCode).toBe(617);
  });

  it('never writes a token or an API key to the log', async () => {
    const jwt = await token('tenant-a', ['keyManagement']);
    const key = await apiKey(tenantA, 'keyManagement');
    await app.inject({
      method: 'GET',
      url: '/km',
      headers: { authorization: `Bearer ${jwt}`, 'x-api-key': key },
    });
    await app.inject({
      method: 'GET',
      url: '/undeclared',
      headers: { authorization: `Bearer ${jwt}`, 'x-api-key': key },
    });
    const all = logs.join('\n');
    expect(all).not.toContain(jwt.split('.')[2]!);
    expect(all).not.toContain(key);
  });
});
