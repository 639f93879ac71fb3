import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { asWorkOf } from '../../../src/lib/work-owner.js';
import { ownBytes, postable, postWiped, WorkerPool } from '../../../src/lib/worker-pool.js';
import type { ArrivedView } from './byte-views.worker.js';

type Task = { describe: unknown } | { pooled: string };

const pool = new WorkerPool<Task, unknown>({
  name: 'byte views',
  workerUrl: new URL('./byte-views.worker.ts', import.meta.url),
  size: 1,
  inline: () => {
    throw new Error('the worker must run these tasks');
  },
});

afterAll(() => pool.shutdown());

/** A small Buffer decoded from base64: a view into Node's shared pool. */
const pooledView = (text: string) => {
  const view = Buffer.from(Buffer.from(text).toString('base64'), 'base64');
  expect(view.buffer.byteLength).toBeGreaterThan(view.byteLength);
  return view;
};

describe('WorkerPool posts byte views as their own bytes', () => {
  it('copies a pooled view to a buffer of its own, and leaves an exact one as it is', () => {
    const own = ownBytes(pooledView('hello world'));
    expect(own.buffer.byteLength).toBe(11);
    expect(Buffer.from(own).toString()).toBe('hello world');
    expect(structuredClone(own).buffer.byteLength).toBe(11);
    const exact = new Uint8Array(32);
    expect(ownBytes(exact)).toBe(exact);
  });

  it('sends a worker only the bytes of each view in a task, at every level a batch has', async () => {
    const slice = Buffer.alloc(4096, 7).subarray(100, 104);
    const task = {
      describe: [
        { data: pooledView('abc'), signature: pooledView('de'), label: 'x', count: 3 },
        { data: slice },
      ],
    };
    const arrived = (await pool.run(task)) as [
      { data: ArrivedView; signature: ArrivedView; label: string; count: number },
      { data: ArrivedView },
    ];
    expect(arrived[0]).toEqual({
      data: { hex: '616263', backing: 3 },
      signature: { hex: '6465', backing: 2 },
      label: 'x',
      count: 3,
    });
    expect(arrived[1]).toEqual({ data: { hex: '07070707', backing: 4 } });
    expect(pool.stats().worker).toBeGreaterThan(0);
  });

  it('answers with only the bytes of a view the worker returns', async () => {
    const result = (await pool.run({ pooled: Buffer.from('signature').toString('base64') })) as Uint8Array;
    expect(Buffer.from(result).toString()).toBe('signature');
    expect(result.buffer.byteLength).toBe(9);
  });

  it('rebuilds a message only where a view was copied, and shares views of shared memory', () => {
    const exact = new Uint8Array(8);
    const plain = { hash: 'sha256', data: exact, list: [1, 2, exact] };
    expect(postable(plain)).toBe(plain);
    const shared = new Uint8Array(new SharedArrayBuffer(64), 8, 8);
    expect(postable({ shared }).shared).toBe(shared);
    const pooled = pooledView('xyz');
    const original = { data: pooled, keep: exact };
    const posted = postable(original);
    expect(posted).not.toBe(original);
    expect(posted.keep).toBe(exact);
    expect(original.data).toBe(pooled);
    expect(posted.data.buffer.byteLength).toBe(3);
  });
});

describe('postWiped', () => {
  it("wipes the copies it posted once postMessage has cloned them, and never the caller's own bytes", () => {
    // a secret that is a view into a bigger buffer (a key's bytes inside a decrypted record, say)
    const record = Buffer.alloc(64, 0xee);
    const secret = record.subarray(16, 48);
    const exact = new Uint8Array(8).fill(5);
    let handed: { id: number; task: { secret: Uint8Array; exact: Uint8Array } } | undefined;
    let received: typeof handed;
    const port = {
      postMessage(message: unknown) {
        handed = message as typeof handed;
        received = structuredClone(handed); // what the other thread gets, cloned during the call
      },
    };
    postWiped(port, (task) => ({ id: 1, task }), { secret, exact });
    expect(Buffer.from(received!.task.secret).equals(Buffer.alloc(32, 0xee))).toBe(true);
    expect(handed!.task.secret).not.toBe(secret);
    expect(handed!.task.secret.every((byte) => byte === 0)).toBe(true);
    expect(record.every((byte) => byte === 0xee)).toBe(true);
    expect(handed!.task.exact).toBe(exact);
    expect(exact.every((byte) => byte === 5)).toBe(true);
  });

  it('wipes the copies also when the message cannot be posted', () => {
    const secret = Buffer.alloc(64, 0xee).subarray(0, 32);
    let handed: { task: { secret: Uint8Array } } | undefined;
    const port = {
      postMessage(message: unknown) {
        handed = message as typeof handed;
        throw new Error('DataCloneError');
      },
    };
    expect(() => postWiped(port, (task) => ({ task }), { secret })).toThrow('DataCloneError');
    expect(handed!.task.secret.every((byte) => byte === 0)).toBe(true);
    expect(secret.every((byte) => byte === 0xee)).toBe(true);
  });
});

describe('WorkerPool when its worker dies', () => {
  it('runs every task still in flight on the calling thread, then starts a new worker', async () => {
    const inlined: (number | 'exit')[] = [];
    const dying = new WorkerPool<number | 'exit', number>({
      name: 'exiting',
      workerUrl: new URL('./exiting.worker.ts', import.meta.url),
      size: 1,
      inline: (task) => {
        inlined.push(task);
        return task === 'exit' ? -1 : task * 2;
      },
    });
    onTestFinished(() => dying.shutdown());
    expect(await dying.run(1)).toBe(2); // the worker is up
    // several tasks in flight on one worker, as the signing lane's batches of one turn are
    const results = await Promise.all([3, 4, 'exit' as const, 5, 6].map((task) => dying.run(task)));
    expect(results).toEqual([6, 8, -1, 10, 12]);
    // the worker answered what it finished before it died; the rest ran here, none twice
    expect(inlined).toContain('exit');
    expect(inlined).toEqual(expect.arrayContaining([5, 6]));
    expect(dying.stats()).toMatchObject({ workerFailures: 1, inline: inlined.length, disabled: false });
    expect(dying.stats().worker + inlined.length).toBe(6);
    expect(await dying.run(7)).toBe(14);
    expect(dying.stats()).toMatchObject({ workers: 1, inline: inlined.length });
  });
});

describe('a fair WorkerPool', () => {
  it('serves the owners in turn: a queue of one owner does not hold up another owner’s task', async () => {
    const fair = new WorkerPool<number | 'exit', number>({
      name: 'fair',
      workerUrl: new URL('./exiting.worker.ts', import.meta.url),
      size: 1,
      fair: true,
      inline: () => {
        throw new Error('the worker must run these tasks');
      },
    });
    onTestFinished(() => fair.shutdown());
    expect(await fair.run(1)).toBe(2);
    const finished: string[] = [];
    const run = (owner: string, task: number) =>
      asWorkOf(owner, () => fair.run(task)).then((result) => finished.push(`${owner}${result / 2}`));
    const noisy = [1, 2, 3, 4, 5].map((task) => run('noisy', task));
    const quiet = [run('quiet', 1), run('quiet', 2)];
    const late = run('late', 1);
    await Promise.all([...noisy, ...quiet, late]);
    // the worker holds two tasks at a time; then each owner in turn, one not served yet before one served already
    expect(finished).toEqual(['noisy1', 'noisy2', 'quiet1', 'late1', 'noisy3', 'quiet2', 'noisy4', 'noisy5']);
    // a task outside asWorkOf is the empty owner's, one more owner among the others
    expect(await fair.run(21)).toBe(42);
  });

  it('runs the waiting tasks on the calling thread when its worker cannot start', async () => {
    const broken = new WorkerPool<number, number>({
      name: 'broken',
      workerUrl: new URL('./no-such.worker.ts', import.meta.url),
      size: 1,
      fair: true,
      inline: (task) => task * 3,
    });
    onTestFinished(() => broken.shutdown());
    expect(await Promise.all([1, 2, 3].map((task) => broken.run(task)))).toEqual([3, 6, 9]);
    expect(broken.stats()).toMatchObject({ disabled: true, inline: 3 });
  });
});
