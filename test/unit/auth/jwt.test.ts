import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createJwtIssuer, JwtIssuer } from '../../../src/auth/jwt-issuer.js';
import { algorithmsForKey, loadJwtKeys } from '../../../src/auth/jwt-keys.js';
import { createJwtVerifier, JwtVerifier, type PartitionResolver } from '../../../src/auth/jwt-verifier.js';
import type { Clock } from '../../../src/clock.js';
import { loadConfig } from '../../../src/config.js';
import { TsbError } from '../../../src/errors.js';

const ISSUER = 'opentsb';
const AUDIENCE = 'opentsb';
const T0 = Date.parse('2026-03-01T12:00:00Z');

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

let nowMs = T0;
const clock: Clock = { now: () => new Date(nowMs) };
const partitions: Record<string, { id: string; name: string }> = {
  'tenant-a': { id: '00000000-0000-4000-8000-00000000000a', name: 'tenant-a' },
};
const resolvePartition: PartitionResolver = async (name) => partitions[name] ?? null;

function verifier(options: { clockToleranceSeconds?: number; cacheSize?: number; key?: KeyObject } = {}) {
  return new JwtVerifier({
    publicKey: options.key ?? publicKey,
    issuer: ISSUER,
    audience: AUDIENCE,
    clockToleranceSeconds: options.clockToleranceSeconds ?? 0,
    resolvePartition,
    clock,
    ...(options.cacheSize ? { cacheSize: options.cacheSize } : {}),
  });
}

const issuer = (overrides: Partial<{ key: KeyObject; issuer: string; audience: string; at: number }> = {}) =>
  new JwtIssuer({
    privateKey: overrides.key ?? privateKey,
    issuer: overrides.issuer ?? ISSUER,
    audience: overrides.audience ?? AUDIENCE,
    clock: { now: () => new Date(overrides.at ?? nowMs) },
  });

const good = () =>
  issuer().issueToken({ partition: 'tenant-a', roles: ['keyManagement', 'service'], ttlSeconds: 60 });

async function rejection(promise: Promise<unknown>): Promise<TsbError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the token to be refused');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TsbError);
  expect((error as TsbError).errorCode).toBe(617);
  expect((error as TsbError).statusCode).toBe(401);
  return error as TsbError;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: 'someone',
  partition: 'tenant-a',
  roles: ['keyManagement'],
  exp: Math.floor(nowMs / 1000) + 60,
  ...extra,
});

beforeEach(() => {
  nowMs = T0;
});

describe('JwtVerifier', () => {
  it('accepts a good token and returns partition, roles and jti', async () => {
    const verified = await verifier().verify(await good());
    expect(verified.partition).toEqual(partitions['tenant-a']);
    expect([...verified.roles].sort()).toEqual(['keyManagement', 'service']);
    expect(verified.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(verified.credentialId).toBe(verified.jti);
    expect(verified.subject).toBe('tenant-a');
    expect(verified.expiresAt.getTime()).toBe(T0 + 60_000);
  });

  it('refuses alg "none"', async () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`;
    await rejection(verifier().verify(token));
  });

  it('refuses HS256 signed with the public key bytes as the secret', async () => {
    for (const secret of [
      publicKey.export({ type: 'spki', format: 'pem' }) as string,
      publicKey.export({ type: 'spki', format: 'der' }),
    ]) {
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: 'HS256' })
        .sign(typeof secret === 'string' ? new TextEncoder().encode(secret) : new Uint8Array(secret));
      const error = await rejection(verifier().verify(token));
      expect(error.message).toMatch(/algorithm/);
    }
  });

  it('refuses an algorithm that does not fit the key (RS256 to an EC key)', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    await rejection(verifier().verify(token));
  });

  it('refuses an expired token', async () => {
    const token = await good();
    nowMs = T0 + 61_000;
    expect((await rejection(verifier().verify(token))).message).toMatch(/expired/);
  });

  it('honours the clock tolerance', async () => {
    const token = await good();
    nowMs = T0 + 80_000;
    await expect(verifier({ clockToleranceSeconds: 30 }).verify(token)).resolves.toBeTruthy();
    nowMs = T0 + 95_000;
    await rejection(verifier({ clockToleranceSeconds: 30 }).verify(token));
  });

  it('refuses a token that is not valid yet (nbf)', async () => {
    const token = await issuer({ at: T0 + 3600_000 }).issueToken({
      partition: 'tenant-a',
      roles: ['service'],
      ttlSeconds: 60,
    });
    expect((await rejection(verifier().verify(token))).message).toMatch(/nbf/);
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    const wrongAudience = await issuer({ audience: 'someone-else' }).issueToken({
      partition: 'tenant-a',
      roles: ['service'],
      ttlSeconds: 60,
    });
    expect((await rejection(verifier().verify(wrongAudience))).message).toMatch(/aud/);
    const wrongIssuer = await issuer({ issuer: 'evil' }).issueToken({
      partition: 'tenant-a',
      roles: ['service'],
      ttlSeconds: 60,
    });
    expect((await rejection(verifier().verify(wrongIssuer))).message).toMatch(/iss/);
  });

  it('refuses a token for a partition that does not exist', async () => {
    const token = await issuer().issueToken({
      partition: 'no-such-tenant',
      roles: ['service'],
      ttlSeconds: 60,
    });
    expect((await rejection(verifier().verify(token))).message).toMatch(/partition/);
  });

  it('refuses a tampered signature, a tampered payload and another key', async () => {
    const token = await good();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const middle = Math.floor(signature.length / 2);
    const flipped =
      signature.slice(0, middle) + (signature[middle] === 'A' ? 'B' : 'A') + signature.slice(middle + 1);
    await rejection(verifier().verify(`${header}.${payload}.${flipped}`));
    const forged = b64({
      ...JSON.parse(Buffer.from(payload, 'base64url').toString()),
      roles: ['securityOfficer'],
    });
    await rejection(verifier().verify(`${header}.${forged}.${signature}`));
    const foreign = await issuer({ key: other.privateKey }).issueToken({
      partition: 'tenant-a',
      roles: ['service'],
      ttlSeconds: 60,
    });
    await rejection(verifier().verify(foreign));
  });

  it('requires exp, a partition and known roles', async () => {
    const sign = (payload: Record<string, unknown>) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const { exp: _exp, ...withoutExp } = claims();
    await rejection(verifier().verify(await sign(withoutExp)));
    await rejection(verifier().verify(await sign(claims({ partition: undefined }))));
    await rejection(verifier().verify(await sign(claims({ roles: [] }))));
    await rejection(verifier().verify(await sign(claims({ roles: 'keyManagement' }))));
    await rejection(verifier().verify(await sign(claims({ roles: ['root'] }))));
    await expect(verifier().verify(await sign(claims()))).resolves.toBeTruthy();
  });

  it('refuses garbage and oversized tokens', async () => {
    await rejection(verifier().verify('not-a-jwt'));
    await rejection(verifier().verify(''));
    await rejection(verifier().verify('a'.repeat(10_000)));
  });

  it('checks a token signature once and serves repeats from the cache', async () => {
    const v = verifier();
    const token = await good();
    await Promise.all([v.verify(token), v.verify(token)]);
    await v.verify(token);
    expect(v.stats.verifications).toBe(1);
    expect(v.stats.hits).toBe(1);
  });

  it('never uses a cached token past its exp', async () => {
    const v = verifier();
    const token = await good();
    await v.verify(token);
    nowMs = T0 + 59_999;
    await v.verify(token);
    expect(v.stats.hits).toBe(1);
    nowMs = T0 + 60_000;
    await rejection(v.verify(token));
    expect(v.stats.hits).toBe(1);
    expect(v.stats.verifications).toBe(2);
  });

  it('keeps the cache bounded', async () => {
    const v = verifier({ cacheSize: 2 });
    for (let i = 0; i < 5; i++) await v.verify(await good());
    expect(v.cacheSize).toBe(2);
  });
});

describe('algorithmsForKey', () => {
  it('derives an asymmetric allow-list from the key type', () => {
    expect(algorithmsForKey(publicKey)).toEqual({ verify: ['ES256'], sign: 'ES256' });
    expect(algorithmsForKey(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey).verify).toEqual(
      ['ES384'],
    );
    expect(algorithmsForKey(generateKeyPairSync('ed25519').publicKey).verify).toContain('EdDSA');
    const rsa = algorithmsForKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
    expect(rsa.verify).toContain('RS256');
    expect(rsa.verify).toContain('PS256');
    for (const list of [rsa.verify, algorithmsForKey(publicKey).verify]) {
      expect(list.some((alg) => alg === 'none' || alg.startsWith('HS'))).toBe(false);
    }
  });

  it('refuses secret keys, small RSA keys and odd curves', () => {
    expect(() => algorithmsForKey(createSecretKey(Buffer.alloc(32)))).toThrow();
    expect(() => algorithmsForKey(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey)).toThrow(
      /2048/,
    );
    expect(() => algorithmsForKey(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey)).toThrow(
      /curve/,
    );
  });
});

describe('JWT keys from the configuration', () => {
  const dirs: string[] = [];
  const scratch = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'opentsb-jwt-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('creates a development ES256 key pair in the data folder once (private key mode 0600)', async () => {
    const dataDir = path.join(scratch(), 'data');
    const config = loadConfig({ TSB_DATA_DIR: dataDir });
    const first = loadJwtKeys(config);
    expect(first.development).toBe(true);
    expect(statSync(path.join(dataDir, 'jwt-private.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dataDir, 'jwt-public.pem')).isFile()).toBe(true);
    const second = loadJwtKeys(config);
    expect(second.publicKey.equals(first.publicKey)).toBe(true);

    const token = await createJwtIssuer(config).issueToken({
      partition: 'tenant-a',
      roles: 'service',
      ttlSeconds: 60,
    });
    const verified = await createJwtVerifier(config, { resolvePartition }).verify(token);
    expect(verified.partition.name).toBe('tenant-a');
  });

  it('verifies with JWT_PUBLIC_KEY_FILE (SPKI) and signs with JWT_PRIVATE_KEY_FILE', async () => {
    const dir = scratch();
    const keyPair = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    writeFileSync(path.join(dir, 'pub.pem'), keyPair.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(path.join(dir, 'priv.pem'), keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const config = loadConfig({
      TSB_DATA_DIR: path.join(dir, 'data'),
      JWT_PUBLIC_KEY_FILE: path.join(dir, 'pub.pem'),
      JWT_PRIVATE_KEY_FILE: path.join(dir, 'priv.pem'),
    });
    const keys = loadJwtKeys(config);
    expect(keys.development).toBe(false);
    expect(keys.algorithms.sign).toBe('ES384');
    const token = await createJwtIssuer(config).issueToken({
      partition: 'tenant-a',
      roles: ['service'],
      ttlSeconds: 60,
    });
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).alg).toBe('ES384');
    await expect(createJwtVerifier(config, { resolvePartition }).verify(token)).resolves.toBeTruthy();

    const verifyOnly = loadConfig({
      TSB_DATA_DIR: path.join(dir, 'data'),
      JWT_PUBLIC_KEY_FILE: path.join(dir, 'pub.pem'),
    });
    expect(() => createJwtIssuer(verifyOnly)).toThrow(/JWT_PRIVATE_KEY_FILE/);
    await expect(createJwtVerifier(verifyOnly, { resolvePartition }).verify(token)).resolves.toBeTruthy();

    writeFileSync(path.join(dir, 'other.pem'), other.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const mismatched = loadConfig({
      TSB_DATA_DIR: path.join(dir, 'data'),
      JWT_PUBLIC_KEY_FILE: path.join(dir, 'pub.pem'),
      JWT_PRIVATE_KEY_FILE: path.join(dir, 'other.pem'),
    });
    expect(() => loadJwtKeys(mismatched)).toThrow(/not the private half/);
  });
});

describe('JWT_PUBLIC_KEY_FILE as a certificate', () => {
  it('verifies with the public key of a PEM certificate', async () => {
    const { createTestPki } = await import('../../helpers/certs.js');
    const pki = await createTestPki();
    try {
      const config = loadConfig({
        TSB_DATA_DIR: path.join(pki.dir, 'data'),
        JWT_PUBLIC_KEY_FILE: pki.client.certFile,
        JWT_PRIVATE_KEY_FILE: pki.client.keyFile,
      });
      const keys = loadJwtKeys(config);
      expect(keys.algorithms.verify).toEqual(['ES256']);
      const token = await createJwtIssuer(config).issueToken({
        partition: 'tenant-a',
        roles: ['approver'],
        ttlSeconds: 60,
      });
      await expect(createJwtVerifier(config, { resolvePartition }).verify(token)).resolves.toBeTruthy();
    } finally {
      await pki.cleanup();
    }
  });
});
