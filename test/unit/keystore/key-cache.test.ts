import { describe, expect, it } from 'vitest';
import { KeyCache } from '../../../src/keystore/keys/key-cache.js';

describe('KeyCache', () => {
  it('is bounded and evicts the least recently used entry', () => {
    const cache = new KeyCache<string>(2);
    cache.set('a', 1, 'A', 'p');
    cache.set('b', 1, 'B', 'p');
    expect(cache.get('a', 1, 'p')).toBe('A');
    cache.set('c', 1, 'C', 'p');
    expect(cache.size).toBe(2);
    expect(cache.get('b', 1, 'p')).toBeUndefined();
    expect(cache.get('a', 1, 'p')).toBe('A');
    expect(cache.get('c', 1, 'p')).toBe('C');
  });

  it('never serves an entry built from an older key version, and drops on demand', () => {
    const cache = new KeyCache<string>(10);
    cache.set('k', 1, 'v1', 'p');
    expect(cache.get('k', 2, 'p')).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set('k', 2, 'v2', 'p');
    cache.drop('k');
    expect(cache.get('k', 2, 'p')).toBeUndefined();
    expect(cache.hits).toBe(0);
    expect(cache.misses).toBe(2);
  });

  it("counts each partition's entries and lookups apart; the totals are the whole cache's", () => {
    const cache = new KeyCache<string>(3);
    cache.set('a1', 1, 'A1', 'alice');
    cache.set('b1', 1, 'B1', 'bob');
    cache.set('b2', 1, 'B2', 'bob');
    for (let i = 0; i < 5; i++) expect(cache.get('b1', 1, 'bob')).toBe('B1');
    expect(cache.get('b3', 1, 'bob')).toBeUndefined();
    expect(cache.figures('alice')).toEqual({ size: 1, hits: 0, misses: 0 });
    expect(cache.figures('bob')).toEqual({ size: 2, hits: 5, misses: 1 });
    expect(cache.figures('carol')).toEqual({ size: 0, hits: 0, misses: 0 });
    expect([cache.size, cache.hits, cache.misses]).toEqual([3, 5, 1]);
    // bob's fourth key evicts alice's (least recently used): her size drops, and her lookups stay her own
    cache.set('b3', 1, 'B3', 'bob');
    expect(cache.figures('alice')).toEqual({ size: 0, hits: 0, misses: 0 });
    expect(cache.figures('bob')).toEqual({ size: 3, hits: 5, misses: 1 });
    expect(cache.get('a1', 1, 'alice')).toBeUndefined();
    expect(cache.figures('alice')).toEqual({ size: 0, hits: 0, misses: 1 });
    // a stale version, a drop and a clear keep the sizes right
    expect(cache.get('b1', 2, 'bob')).toBeUndefined();
    cache.drop('b2');
    cache.drop('b2');
    expect(cache.figures('bob')).toEqual({ size: 1, hits: 5, misses: 2 });
    cache.set('b3', 2, 'B3v2', 'bob');
    expect(cache.figures('bob').size).toBe(1);
    cache.clear();
    expect(cache.figures('bob')).toEqual({ size: 0, hits: 5, misses: 2 });
    expect(cache.size).toBe(0);
  });

  it('refuses a capacity below one', () => {
    expect(() => new KeyCache(0)).toThrow();
  });
});
