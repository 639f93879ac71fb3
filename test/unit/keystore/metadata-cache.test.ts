import { describe, expect, it } from 'vitest';
import type { Key, Partition, PrismaClient } from '../../../src/generated/prisma/client.js';
import { MetadataCache } from '../../../src/keystore/metadata-cache.js';

/** No change feed: the cache never touches the database itself, the loads below stand for its reads. */
const newCache = () => new MetadataCache({} as PrismaClient, { capacity: 10, ttlMs: 30_000 });
const keyRow = (blocked: boolean) => ({ id: 'k1', label: 'pay', blocked }) as unknown as Key;
const partitionRow = (readOnly: boolean) => ({ id: 'p1', readOnly }) as unknown as Partition;

/** A load that answers when told to, as a read that is still on its way while a change commits. */
function slowLoad<T>(value: T) {
  let answer!: () => void;
  const load = () => new Promise<T>((resolve) => (answer = () => resolve(value)));
  return { load, answer: () => answer() };
}

describe('MetadataCache', () => {
  it('keeps a key row it loaded, so the next lookup reads nothing', async () => {
    const cache = newCache();
    let reads = 0;
    const load = async () => {
      reads++;
      return keyRow(false);
    };
    await cache.key('p1', 'pay', load);
    await cache.key('p1', 'pay', load);
    expect(reads).toBe(1);
  });

  it('does not keep a key row read before a change it heard meanwhile: a block is seen at the next lookup', async () => {
    const cache = newCache();
    const before = slowLoad(keyRow(false));
    const lookup = cache.key('p1', 'pay', before.load);
    // the block commits and is announced while the read of the row before it is still on its way
    cache.forget({ kind: 'key', partitionId: 'p1', label: 'pay' });
    before.answer();
    expect((await lookup)?.blocked).toBe(false);
    const next = await cache.key('p1', 'pay', async () => keyRow(true));
    expect(next?.blocked).toBe(true);
  });

  it('does not keep a partition row read before a change or a clear it heard meanwhile', async () => {
    const cache = newCache();
    for (const hear of [() => cache.forget({ kind: 'partition', id: 'p1' }), () => cache.clear()]) {
      const before = slowLoad(partitionRow(false));
      const lookup = cache.partition('p1', before.load);
      hear();
      before.answer();
      await lookup;
      expect((await cache.partition('p1', async () => partitionRow(true)))?.readOnly).toBe(true);
      cache.forget({ kind: 'partition', id: 'p1' });
    }
  });
});
