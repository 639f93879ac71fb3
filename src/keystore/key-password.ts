import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { TsbError } from '../errors.js';
import { inThreadPoolTurn } from '../lib/thread-pool-turns.js';

/**
 * Key passwords (TSB `char[]`): accepted as a JSON string or as an array of one-character strings.
 * Stored only as an scrypt verifier; the password itself is never kept.
 */
export type PasswordInput = string | readonly string[] | null | undefined;

const SCRYPT = { N: 16_384, r: 8, p: 1, keyLength: 32 } as const;
const MAX_PASSWORD_LENGTH = 256;

export function normalizePassword(input: PasswordInput, field = 'password'): string | null {
  if (input === null || input === undefined) return null;
  const text = typeof input === 'string' ? input : joinCharacters(input, field);
  if (text.length === 0) return null;
  if (text.length > MAX_PASSWORD_LENGTH) {
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `${field} must be at most ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
  return text;
}

function joinCharacters(characters: readonly string[], field: string): string {
  for (const character of characters) {
    if (typeof character !== 'string' || [...character].length !== 1) {
      throw new TsbError(
        'INPUT_VALIDATION_FAILED',
        `${field} must be a string or an array of single characters`,
      );
    }
  }
  return characters.join('');
}

/** scrypt on libuv's threads, in its partition's turn (thread-pool-turns.ts): a wrong password is a run each time. */
function deriveVerifier(password: string, salt: Buffer): Promise<Buffer> {
  return inThreadPoolTurn(
    () =>
      new Promise((resolve, reject) => {
        scrypt(
          password.normalize('NFC'),
          salt,
          SCRYPT.keyLength,
          { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p },
          (error, derived) => (error ? reject(error) : resolve(derived)),
        );
      }),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const verifier = await deriveVerifier(password, salt);
  return `scrypt$${SCRYPT.N}$${salt.toString('base64')}$${verifier.toString('base64')}`;
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, cost, salt, expected] = stored.split('$');
  if (scheme !== 'scrypt' || Number(cost) !== SCRYPT.N || !salt || !expected) return false;
  const verifier = await deriveVerifier(password, Buffer.from(salt, 'base64'));
  const expectedBytes = Buffer.from(expected, 'base64');
  return verifier.length === expectedBytes.length && timingSafeEqual(verifier, expectedBytes);
}

/** Refuses use of a key unless the password given matches the key's (or both are absent). */
export async function checkKeyPassword(storedHash: string | null, given: string | null): Promise<void> {
  if (storedHash === null && given === null) return;
  if (storedHash === null || given === null || !(await passwordMatches(given, storedHash))) {
    throw new TsbError('KEY_PASSWORD_MISMATCH', 'the key password is missing or wrong');
  }
}
