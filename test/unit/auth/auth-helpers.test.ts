import { describe, expect, it } from 'vitest';
import {
  API_KEY_PATTERN,
  generateApiKey,
  hashApiKey,
  splitApiKeyHeader,
} from '../../../src/auth/api-keys.js';
import { hasAnyRole } from '../../../src/auth/caller.js';
import { parseRoles, ROLES, UnknownRoleError } from '../../../src/auth/roles.js';
import { BoundedTtlCache } from '../../../src/lib/ttl-cache.js';

describe('roles', () => {
  it('lists the TSB roles plus securityOfficer', () => {
    expect(ROLES).toEqual([
      'keyManagement',
      'keyOperation',
      'approver',
      'service',
      'approverKeyManagement',
      'securityOfficer',
    ]);
  });

  it('parses a comma-separated list, trimming and de-duplicating', () => {
    expect(parseRoles(' keyManagement, service ,keyManagement,')).toEqual(['keyManagement', 'service']);
    expect(parseRoles(['approver', 'service,keyOperation'])).toEqual(['approver', 'service', 'keyOperation']);
  });

  it('names an unknown role and the valid ones', () => {
    expect(() => parseRoles('keyManagement,admin')).toThrow(UnknownRoleError);
    expect(() => parseRoles('admin')).toThrow(/unknown role "admin".*keyManagement/);
    expect(() => parseRoles('KeyManagement')).toThrow(UnknownRoleError);
    expect(() => parseRoles(' , ')).toThrow(/no role/);
  });

  it('checks "any of" the roles a route lists', () => {
    const caller = { roles: new Set(['service'] as const) };
    expect(hasAnyRole(caller, ['keyOperation', 'service'])).toBe(true);
    expect(hasAnyRole(caller, ['keyManagement'])).toBe(false);
    expect(hasAnyRole(caller, [])).toBe(true);
  });
});

describe('API key format', () => {
  it('is tsb-x-token_ and 32 random bytes in base64url, hashed with SHA-256 hex', () => {
    const key = generateApiKey();
    expect(key).toMatch(API_KEY_PATTERN);
    expect(Buffer.from(key.slice('tsb-x-token_'.length), 'base64url')).toHaveLength(32);
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(generateApiKey()).not.toBe(key);
  });

  it('splits a header carrying several keys', () => {
    expect(splitApiKeyHeader(undefined)).toEqual([]);
    expect(splitApiKeyHeader('a')).toEqual(['a']);
    expect(splitApiKeyHeader('a,b, c ,')).toEqual(['a', 'b', 'c']);
    expect(splitApiKeyHeader(['a, b', 'c'])).toEqual(['a', 'b', 'c']);
  });
});

describe('BoundedTtlCache', () => {
  it('getOrSet creates a value once, keeps it without a deadline, and does not cache a failure', () => {
    const cache = new BoundedTtlCache<{ n: number }>(2);
    let made = 0;
    const make = () => ({ n: ++made });
    const first = cache.getOrSet('k', make);
    expect(cache.getOrSet('k', make)).toBe(first);
    expect(made).toBe(1);
    expect(() =>
      cache.getOrSet('bad', () => {
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(cache.get('bad')).toBeUndefined();
  });

  it('expires entries at their deadline and evicts the least recently used', () => {
    let now = 1000;
    const cache = new BoundedTtlCache<number>(2, () => now);
    cache.set('a', 1, 2000);
    cache.set('b', 2, 5000);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('c', 3, 5000); // evicts b
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    now = 2000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBe(3);
    cache.set('d', 4, 1500); // already expired: not stored
    expect(cache.get('d')).toBeUndefined();
    expect(cache.size).toBe(1);
  });
});
