import { describe, expect, it } from 'vitest';
import { StatementBatch } from '../../../src/db/statement-batch.js';

/** A run that the test ends by hand, recording the inputs of each batch. */
function controlledRun() {
  const batches: number[][] = [];
  const finishers: ((fail?: Error) => void)[] = [];
  const run = (inputs: readonly number[]) => {
    batches.push([...inputs]);
    return new Promise<number[]>((resolve, reject) => {
      finishers.push((fail) => (fail ? reject(fail) : resolve(inputs.map((input) => input * 10))));
    });
  };
  return { batches, finishers, run };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('StatementBatch', () => {
  it('sends the calls of one turn together, in order, and answers each call its own output', async () => {
    const { batches, finishers, run } = controlledRun();
    const batch = new StatementBatch(run);
    const answers = [1, 2, 3].map((input) => batch.submit(input));
    await turn();
    expect(batches).toEqual([[1, 2, 3]]);
    finishers[0]!();
    expect(await Promise.all(answers)).toEqual([10, 20, 30]);
  });

  it('sends the calls made while a batch runs together, after it, and a lone call at once', async () => {
    const { batches, finishers, run } = controlledRun();
    const batch = new StatementBatch(run);
    const first = batch.submit(1);
    await turn();
    const later = [batch.submit(2), batch.submit(3)];
    await turn();
    await turn();
    expect(batches).toEqual([[1]]);
    finishers[0]!();
    expect(await first).toBe(10);
    await turn();
    expect(batches).toEqual([[1], [2, 3]]);
    finishers[1]!();
    expect(await Promise.all(later)).toEqual([20, 30]);
  });

  it('fails every call of a failed batch with its error, and runs the next batch as usual', async () => {
    const { batches, finishers, run } = controlledRun();
    const batch = new StatementBatch(run);
    const failing = [batch.submit(1), batch.submit(2)];
    await turn();
    const next = batch.submit(3);
    finishers[0]!(new Error('connection lost'));
    for (const call of failing) await expect(call).rejects.toThrow('connection lost');
    await turn();
    expect(batches).toEqual([[1, 2], [3]]);
    finishers[1]!();
    expect(await next).toBe(30);
  });

  it('fails the calls of a batch whose run answers a different number of outputs', async () => {
    const batch = new StatementBatch(async (inputs: readonly number[]) => inputs.slice(1));
    const calls = [batch.submit(1), batch.submit(2)];
    for (const call of calls) await expect(call).rejects.toThrow('a batch of 2 calls answered 1 outputs');
    expect(await new StatementBatch(async (inputs: readonly number[]) => inputs).submit(4)).toBe(4);
  });
});
