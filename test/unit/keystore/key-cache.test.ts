import { describe, expect, it } from 'vitest';
import { KeyCache } from '../../../src/keystore/keys/key-cache.js';

describe('KeyCache', () => {
  it('is bounded and evicts the least recently used entry', () => {
    const cache = new KeyCache<string>(2);
    cache.set('a', 1, 'A');
    cache.set('b', 1, 'B');
    expect(cache.get('a', 1)).toBe('A');
    cache.set('c', 1, 'C');
    expect(cache.size).toBe(2);
    expect(cache.get('b', 1)).toBeUndefined();
    expect(cache.get('a', 1)).toBe('A');
    expect(cache.get('c', 1)).toBe('C');
  });

  it('never serves an entry built from an older key version, and drops on demand', () => {
    const cache = new KeyCache<string>(10);
    cache.set('k', 1, 'v1');
    expect(cache.get('k', 2)).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set('k', 2, 'v2');
    cache.drop('k');
    expect(cache.get('k', 2)).toBeUndefined();
    expect(cache.hits).toBe(0);
    expect(cache.misses).toBe(2);
  });

  it('refuses a capacity below one', () => {
    expect(() => new KeyCache(0)).toThrow();
  });
});
