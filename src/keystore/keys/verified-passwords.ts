import { createHash } from 'node:crypto';
import type { Key } from '../../generated/prisma/client.js';
import { BoundedTtlCache } from '../../lib/ttl-cache.js';
import { checkKeyPassword, normalizePassword, type PasswordInput } from '../key-password.js';

const VERIFIED_PASSWORD_TTL_MS = 5 * 60_000;

/**
 * Checks key passwords. A successful check is remembered (by a hash of the password, for this key
 * version) for a few minutes, so a password-protected key does not cost an scrypt run on every use.
 */
export class VerifiedPasswords {
  private readonly verified: BoundedTtlCache<true>;

  constructor(capacity: number) {
    this.verified = new BoundedTtlCache<true>(capacity);
  }

  async check(key: Key, password: PasswordInput): Promise<void> {
    const given = normalizePassword(password);
    if (key.passwordHash === null || given === null) return checkKeyPassword(key.passwordHash, given);
    const entry = `${key.id}:${key.version}:${createHash('sha256').update(given).digest('base64')}`;
    if (this.verified.get(entry)) return;
    await checkKeyPassword(key.passwordHash, given);
    this.verified.set(entry, true, Date.now() + VERIFIED_PASSWORD_TTL_MS);
  }
}
