/**
 * The harness of the in-process A/B benches (audit-ab.ts, use-count-ab.ts): the test app over `app.inject`,
 * P-256 signs through /v1/synchronousSign, blocks of a few seconds alternating between the ways (reversed
 * every other round), medians of the blocks. Per block: req/s, Node CPU µs per request and database
 * transactions per request (statements outside BEGIN…COMMIT plus COMMITs, counted on `pg` Client.query,
 * which Prisma's adapter uses too). The loader shares the process: read the ratios, not the rates.
 */
import pg from 'pg';
import { createTestContext, type TestContext } from '../test/helpers/app.js';

export interface BlockFigures {
  rps: number;
  cpu: number;
  tx: number;
}

let transactions = 0;
let inTransaction = 0;

/** Counts the database transactions of this process from now on. */
function countTransactions(): void {
  type Query = (...args: unknown[]) => unknown;
  const prototype = pg.Client.prototype as unknown as { query: Query };
  const original = prototype.query;
  prototype.query = function counted(this: unknown, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    const text = (typeof first === 'string' ? first : (first?.text ?? '')).trimStart().toUpperCase();
    if (text.startsWith('BEGIN')) inTransaction += 1;
    else if (text.startsWith('COMMIT') || text.startsWith('ROLLBACK')) {
      inTransaction = Math.max(0, inTransaction - 1);
      transactions += 1;
    } else if (inTransaction === 0) transactions += 1;
    return original.apply(this, args);
  };
}

/** The test app with partition `bench`, its P-256 key `p256` and a keyOperation caller's headers. */
export async function signContext(): Promise<{
  t: TestContext;
  sign: () => Promise<void>;
}> {
  countTransactions();
  const t = await createTestContext({ env: { TSB_AUDIT_CHECKPOINT_EVERY: '1000000' } });
  await t.partition('bench');
  const created = await t.call('bench', ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: {
      label: 'p256',
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { sign: true, decrypt: false, unwrap: false },
    },
  });
  if (created.statusCode !== 201) throw new Error(created.body);
  const headers = await t.as('bench', ['keyOperation']);
  const payload = {
    signRequest: {
      payload: Buffer.from('bench').toString('base64'),
      signKeyName: 'p256',
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
    },
  };
  const sign = async () => {
    const response = await t.app.inject({ method: 'POST', url: '/v1/synchronousSign', headers, payload });
    if (response.statusCode !== 200) throw new Error(response.body);
  };
  return { t, sign };
}

/** `concurrency` loops of `sign` for `seconds`; `settle` runs before the clock stops (e.g. a final flush). */
async function block(
  sign: () => Promise<void>,
  concurrency: number,
  seconds: number,
  settle: () => Promise<void>,
): Promise<BlockFigures> {
  const end = Date.now() + seconds * 1000;
  let done = 0;
  const tx0 = transactions;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        await sign();
        done += 1;
      }
    }),
  );
  await settle();
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { rps: done / elapsed, cpu: (cpu.user + cpu.system) / done, tx: (transactions - tx0) / done };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const spread = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

/**
 * Runs the A/B: a warm-up block in `warmUpWay`, then per concurrency `blocks` rounds of every way, and
 * prints one markdown row per concurrency and way. Leaves `setWay(warmUpWay)` in place.
 */
export async function runAb<Way extends string>(options: {
  sign: () => Promise<void>;
  ways: readonly Way[];
  setWay: (way: Way) => void;
  warmUpWay: Way;
  concurrencies: readonly number[];
  blocks: number;
  blockSeconds: number;
  settle?: () => Promise<void>;
}): Promise<void> {
  const { sign, ways, setWay, warmUpWay, blocks, blockSeconds } = options;
  const settle = options.settle ?? (async () => {});
  setWay(warmUpWay);
  await block(sign, 16, blockSeconds, settle);
  console.log('| c | way | req/s median (min–max) | Node CPU µs/req | DB transactions/req |');
  console.log('|---|---|---|---|---|');
  for (const concurrency of options.concurrencies) {
    const results = new Map<Way, BlockFigures[]>(ways.map((way) => [way, []]));
    for (let i = 0; i < blocks; i++) {
      for (const way of i % 2 ? [...ways].reverse() : ways) {
        setWay(way);
        results.get(way)!.push(await block(sign, concurrency, blockSeconds, settle));
      }
    }
    for (const way of ways) {
      const r = results.get(way)!;
      const rps = r.map((x) => x.rps);
      console.log(
        `| ${concurrency} | ${way} | ${median(rps).toFixed(0)} (${spread(rps)}) | ${median(r.map((x) => x.cpu)).toFixed(0)} | ${median(r.map((x) => x.tx)).toFixed(3)} |`,
      );
    }
  }
  setWay(warmUpWay);
}
