import { describe, expect, it } from 'vitest';
import { asWorkOf, TurnGate, TurnQueues, workOwner } from '../../../src/lib/work-owner.js';

describe('work owners', () => {
  it('is the owner given to asWorkOf through what it awaits, and the empty owner outside', async () => {
    expect(workOwner()).toBe('');
    const seen = await asWorkOf('p1', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return workOwner();
    });
    expect(seen).toBe('p1');
  });

  it('TurnQueues serve the owner served longest ago, and forget an owner once it has nothing left', () => {
    const queues = new TurnQueues<string>();
    for (const item of ['a1', 'a2', 'a3']) queues.push('a', item);
    queues.push('b', 'b1');
    queues.push('b', 'b2');
    const taken: string[] = [];
    for (let next = queues.take(); next; next = queues.take()) taken.push(next.item);
    expect(taken).toEqual(['a1', 'b1', 'a2', 'b2', 'a3']);
    // a done, then back: it has no turn on record, so it goes before b, which still has an item taken
    for (let i = 0; i < 3; i++) queues.done('a');
    queues.push('b', 'b3');
    queues.push('a', 'a4');
    expect(queues.take()?.item).toBe('a4');
    expect(queues.drain()).toEqual(['b3']);
    expect(queues.empty).toBe(true);
  });

  it('TurnGate runs at most its limit at once, the waiting ones in turn per owner', async () => {
    const gate = new TurnGate(1);
    const order: string[] = [];
    let running = 0;
    let most = 0;
    const job = (owner: string, name: string) =>
      asWorkOf(owner, () =>
        gate.run(async () => {
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          order.push(name);
          running--;
        }),
      );
    await Promise.all([job('a', 'a1'), job('a', 'a2'), job('a', 'a3'), job('b', 'b1')]);
    expect(order).toEqual(['a1', 'b1', 'a2', 'a3']);
    expect(most).toBe(1);
    await expect(gate.run(() => Promise.reject(new Error('failed')))).rejects.toThrow('failed');
    expect(await gate.run(async () => 'still open')).toBe('still open');
  });
});
