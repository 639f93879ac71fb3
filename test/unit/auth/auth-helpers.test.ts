import { describe, expect, it } from 'vitest';
import {
  API_KEY_PATTERN,
  generateApiKey,
  hashApiKey,
  splitApiKeyHeader,
} from '../../../src/auth/api-keys.js';
import { decodePrincipals, encodePrincipals, hasAnyRole, sharesPrincipal } from '../../../src/auth/caller.js';
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

describe('stored principal lists (separation of duties)', () => {
  const tricky: string[][] = [
    ['sub:CN=alice,O=acme'],
    ['sub:CN=alice', 'O=acme'],
    ['sub:CN=alice%2CO=acme'],
    ['sub:CN=alice%252CO=acme'],
    ['sub:50%', 'key'],
    ['sub:50%,key'],
    ['sub:50%25', 'key'],
    [','],
    ['', ''],
    ['%'],
    ['%2C'],
    ['%25'],
    ['sub:a,b', 'c'],
    ['sub:a', 'b,c'],
  ];

  it('reads back every list as written, and no two lists are written alike', () => {
    for (const principals of tricky)
      expect(decodePrincipals(encodePrincipals(principals))).toEqual(principals);
    const written = tricky.map(encodePrincipals);
    expect(new Set(written).size).toBe(written.length);
  });

  it('escapes only "%" and "," inside a principal, so values of the previous release are unchanged', () => {
    const plain = [
      'sub:alice',
      '4f9a1c2e-0b7d-4c3e-9a51-2f8e6d7c1b00',
      'a3'.repeat(32),
      'sub:CN=alice O=acme;x=y',
    ];
    expect(encodePrincipals(plain)).toBe(plain.join(','));
    expect(decodePrincipals(plain.join(','))).toEqual(plain);
    expect(encodePrincipals(['sub:CN=alice,O=acme', 'sub:50%'])).toBe('sub:CN=alice%2CO=acme,sub:50%25');
    expect(encodePrincipals([])).toBe('');
    expect(decodePrincipals('')).toEqual([]);
  });

  it('keeps a "%" of an older value that starts no escape', () => {
    expect(decodePrincipals('sub:50%off,sub:%zz,sub:%2c')).toEqual(['sub:50%off', 'sub:%zz', 'sub:%2c']);
  });

  it('matches a principal whole, never a part of one holding a comma', () => {
    const stored = encodePrincipals(['sub:CN=alice,O=acme', 'key-1']);
    expect(sharesPrincipal(stored, ['sub:CN=alice,O=acme'])).toBe(true);
    expect(sharesPrincipal(stored, ['other', 'key-1'])).toBe(true);
    expect(sharesPrincipal(stored, ['sub:CN=alice'])).toBe(false);
    expect(sharesPrincipal(stored, ['O=acme'])).toBe(false);
    expect(sharesPrincipal(stored, ['sub:CN=alice%2CO=acme'])).toBe(false);
    expect(sharesPrincipal('', [])).toBe(false);
    // a value of the previous release: principals joined by ","
    expect(sharesPrincipal('sub:alice,key-1', ['key-1'])).toBe(true);
    expect(sharesPrincipal('sub:alice,key-1', ['sub:bob'])).toBe(false);
  });
});
