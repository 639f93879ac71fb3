/**
 * Forged and misused credentials against the whole app, signed where it matters with the service's real
 * issuer key: each is refused with the right status and errorCode, and none reaches a key. (Client
 * certificates of another CA and a missing certificate on the mTLS listener: test/integration/auth/mtls.test.ts.)
 */
import { createSecretKey } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJwtKeys } from '../../src/auth/jwt-keys.js';
import { createTestContext, type TestContext } from '../helpers/app.js';

let t: TestContext;
let keys: ReturnType<typeof loadJwtKeys>;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  t = await createTestContext();
  await t.partition('victim');
  await t.partition('attacker');
  keys = loadJwtKeys(t.config);
  const created = await t.call('victim', ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: {
      label: 'crown-jewel',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { sign: true, decrypt: false, unwrap: false },
    },
  });
  expect(created.statusCode, created.body).toBe(201);
});
afterAll(() => t?.close());

/** A token with the service's real key, shaped by `edit`. */
function signed(edit: (jwt: SignJWT) => SignJWT, claims: Record<string, unknown> = {}) {
  const base = new SignJWT({ partition: 'victim', roles: ['keyOperation'], ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
    .setIssuer(t.config.jwt.issuer)
    .setAudience(t.config.jwt.audience)
    .setSubject('mallory')
    .setIssuedAt(now())
    .setExpirationTime(now() + 600);
  return edit(base).sign(keys.privateKey!);
}

function signWith(authorization: Record<string, string>) {
  return t.app.inject({
    method: 'POST',
    url: '/v1/synchronousSign',
    headers: authorization,
    payload: {
      signRequest: { payload: 'AAEC', signKeyName: 'crown-jewel', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
    },
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('forged and misused credentials', () => {
  it('accepts the genuine token (so that every refusal below is the attack’s doing)', async () => {
    const response = await signWith(bearer(await signed((jwt) => jwt)));
    expect(response.statusCode, response.body).toBe(200);
  });

  it.each([
    [
      'alg "none"',
      async () =>
        new UnsecuredJWT({ partition: 'victim', roles: ['keyOperation'] })
          .setIssuer(t.config.jwt.issuer)
          .setAudience(t.config.jwt.audience)
          .setExpirationTime(now() + 600)
          .encode(),
    ],
    [
      'HS256 signed with the public key as the secret',
      async () =>
        new SignJWT({ partition: 'victim', roles: ['keyOperation'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer(t.config.jwt.issuer)
          .setAudience(t.config.jwt.audience)
          .setExpirationTime(now() + 600)
          .sign(createSecretKey(Buffer.from(keys.publicKey.export({ type: 'spki', format: 'pem' })))),
    ],
    [
      'an expired token',
      () => signed((jwt) => jwt.setIssuedAt(now() - 7200).setExpirationTime(now() - 3600)),
    ],
    ['a token not valid before an hour from now', () => signed((jwt) => jwt.setNotBefore(now() + 3600))],
    ['a wrong audience', () => signed((jwt) => jwt.setAudience('someone-else'))],
    ['a wrong issuer', () => signed((jwt) => jwt.setIssuer('evil-issuer'))],
    ['a token for a partition that does not exist', () => signed((jwt) => jwt, { partition: 'nowhere' })],
    [
      'a changed payload (roles added after signing)',
      async () => {
        const [header, , signature] = (await signed((jwt) => jwt)).split('.');
        const payload = Buffer.from(
          JSON.stringify({
            partition: 'victim',
            roles: ['keyOperation', 'keyManagement'],
            iss: t.config.jwt.issuer,
            aud: t.config.jwt.audience,
            exp: now() + 600,
          }),
        ).toString('base64url');
        return `${header}.${payload}.${signature}`;
      },
    ],
  ])('refuses %s: 401, errorCode 617', async (_name, token) => {
    const response = await signWith(bearer(await token()));
    expect(response.statusCode, response.body).toBe(401);
    expect(response.json()).toMatchObject({ errorCode: 617, reason: 'res.error.invalid.access.token' });
  });

  it('refuses an unknown API key (401, 631) and an empty one (401, 416)', async () => {
    const unknown = await signWith({ 'x-api-key': `tsb-${'A'.repeat(43)}` });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().errorCode).toBe(631);
    const empty = await signWith({ 'x-api-key': '' });
    expect(empty.statusCode).toBe(401);
    expect(empty.json().errorCode).toBe(416);
  });

  it('a genuine token of another partition never reaches the key: 404, errorCode 650, as for a missing key', async () => {
    const response = await signWith(bearer(await signed((jwt) => jwt, { partition: 'attacker' })));
    expect(response.statusCode).toBe(404);
    expect(response.json().errorCode).toBe(650);
  });

  it('a genuine token without the role is refused: 403, errorCode 400', async () => {
    const response = await signWith(bearer(await signed((jwt) => jwt, { roles: ['approver'] })));
    expect(response.statusCode).toBe(403);
    expect(response.json().errorCode).toBe(400);
  });
});
