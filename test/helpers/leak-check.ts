/**
 * `npm run test:leaks` (TSB_LEAK_CHECK=1): every test context logs at trace level into memory and records
 * every injected request and response. When the context closes, the secret bytes of every key its database
 * holds (unsealed with the master key; for asymmetric keys also each private component) and every password the
 * tests sent are searched for — as hex, base64 and base64url — in every log line and every response body.
 * Only answers that exist to hand out key material (plain export of an exportable key) are left out.
 */
import { createPrivateKey } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { TsbError } from '../../src/errors.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import type { SoftHsm } from '../../src/hsm/soft-hsm.js';

export const LEAK_CHECK = process.env.TSB_LEAK_CHECK === '1';

/** Routes whose answer is key material by design. */
const EXPORTING_ROUTES = ['/v1/key/export/plain', '/v1/securityOfficer/backup'];
const MIN_SECRET_BYTES = 16;
const MIN_PASSWORD_LENGTH = 6;

export class LeakRecorder {
  readonly logLines: string[] = [];
  private readonly responses: Array<{ url: string; body: string }> = [];
  private readonly passwords = new Set<string>();

  record(options: InjectOptions | string, response: LightMyRequestResponse): void {
    const url = typeof options === 'string' ? options : String(options.url ?? '');
    if (typeof options === 'object' && options.payload !== undefined) this.collectPasswords(options.payload);
    if (!EXPORTING_ROUTES.some((route) => url.startsWith(route))) {
      this.responses.push({ url, body: response.body });
      for (const value of Object.values(response.headers)) this.responses.push({ url, body: String(value) });
    }
  }

  /** Throws naming every key or password found in a log line or response (never the secret itself). */
  async check(prisma: PrismaClient, hsm: SoftHsm): Promise<void> {
    const needles: Array<{ what: string; encodings: string[] }> = [];
    for (const key of await prisma.key.findMany({ where: { materialSealed: { not: null } } })) {
      const partition = await prisma.partition.findUniqueOrThrow({ where: { id: key.partitionId } });
      const secret = unsealedOrNull(() => hsm.keys.materialOf(partition, key).secret);
      if (!secret) continue;
      for (const part of [secret, ...privateComponents(secret)]) {
        if (part.length >= MIN_SECRET_BYTES)
          needles.push({ what: `key "${key.label}"`, encodings: encodings(part) });
      }
    }
    for (const password of this.passwords) {
      needles.push({ what: `a password of ${password.length} characters`, encodings: [password] });
    }
    const found = new Set<string>();
    const haystacks = [
      ...this.logLines.map((line) => ({ where: 'a log line', text: line })),
      ...this.responses.map(({ url, body }) => ({ where: `a response of ${url}`, text: body })),
    ];
    for (const { what, encodings: forms } of needles) {
      for (const { where, text } of haystacks) {
        if (forms.some((form) => text.includes(form))) found.add(`${what} in ${where}`);
      }
    }
    if (found.size > 0) throw new Error(`secret material leaked:\n  ${[...found].join('\n  ')}`);
  }

  private collectPasswords(payload: unknown): void {
    let value = payload;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        return;
      }
    }
    // iterative: the hostile-input tests send bodies nested thousands of levels deep
    const pending: unknown[] = [value];
    while (pending.length > 0) {
      const node = pending.pop();
      if (!node || typeof node !== 'object') continue;
      for (const [field, sub] of Object.entries(node as Record<string, unknown>)) {
        if (/password/i.test(field)) {
          const text = Array.isArray(sub) ? sub.join('') : typeof sub === 'string' ? sub : '';
          if (text.length >= MIN_PASSWORD_LENGTH) this.passwords.add(text);
        } else pending.push(sub);
      }
    }
  }
}

/** Material a test damaged on purpose (integrity tests) does not unseal; it has no secret to look for. */
function unsealedOrNull(unseal: () => Buffer | null): Buffer | null {
  try {
    return unseal();
  } catch (error) {
    if (error instanceof TsbError && error.kind === 'HSM_INTEGRITY') return null;
    throw error;
  }
}

function encodings(bytes: Buffer): string[] {
  return [
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    bytes.toString('base64'),
    bytes.toString('base64url'),
  ];
}

/** The private scalars of a PKCS#8 key node can read (EC d, RSA d/p/q/…, Ed25519 seed); none otherwise. */
function privateComponents(secret: Buffer): Buffer[] {
  try {
    const jwk = createPrivateKey({ key: secret, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    return (['d', 'p', 'q', 'dp', 'dq', 'qi'] as const)
      .map((name) => jwk[name])
      .filter((value): value is string => typeof value === 'string')
      .map((value) => Buffer.from(value, 'base64url'));
  } catch {
    return [];
  }
}
