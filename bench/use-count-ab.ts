/**
 * In-process A/B of how an HTTP sign's key use is made durable: the test app over `app.inject`, P-256
 * signs, blocks alternating between the two ways, medians of the blocks.
 * - `with-audit`: the use commits in the request's audit entry statement (the service's way);
 * - `own-commit`: the use commits in a group commit of its own before the handler answers, then the audit
 *   entry commits (the way before; simulated by not deferring the uses);
 * - `uncounted`: the use is not counted at all (the floor: what the sign path costs without its count).
 * Per block: req/s, Node CPU µs per request and database transactions per request (statements outside
 * BEGIN…COMMIT plus COMMITs, counted on `pg` Client.query, which Prisma's adapter uses too).
 *
 * Run: TEST_TEMPLATE_DATABASE=<a migrated template> npx tsx bench/use-count-ab.ts [seconds per block] [blocks]
 */
import pg from 'pg';
import { DeferredUses } from '../src/keystore/deferred-uses.js';
import { createTestContext } from '../test/helpers/app.js';

const BLOCK_SECONDS = Number(process.argv[2] ?? 2);
const BLOCKS = Number(process.argv[3] ?? 6);
const CONCURRENCY = (process.env['AB_CONCURRENCY'] ?? '1,16,64').split(',').map(Number);

let transactions = 0;
let inTransaction = 0;
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

const counter = t.hsm.useCounter;
const deferInto = counter.deferInto.bind(counter);
const MODES = ['uncounted', 'own-commit', 'with-audit'] as const;
type Mode = (typeof MODES)[number];
function setMode(mode: Mode) {
  counter.deferInto = {
    'with-audit': deferInto,
    'own-commit': <T>(_uses: DeferredUses, fn: () => T) => fn(),
    // deferred into a collector nobody takes
    uncounted: <T>(_uses: DeferredUses, fn: () => T) => deferInto(new DeferredUses(), fn),
  }[mode];
}

async function block(concurrency: number): Promise<{ rps: number; cpu: number; tx: number }> {
  const end = Date.now() + BLOCK_SECONDS * 1000;
  let done = 0;
  const tx0 = transactions;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const response = await t.app.inject({ method: 'POST', url: '/v1/synchronousSign', headers, payload });
        if (response.statusCode !== 200) throw new Error(response.body);
        done += 1;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { rps: done / seconds, cpu: (cpu.user + cpu.system) / done, tx: (transactions - tx0) / done };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

setMode('with-audit');
await block(16); // warm-up
console.log('| c | way | req/s | Node CPU µs/req | DB transactions/req |');
console.log('|---|---|---|---|---|');
for (const concurrency of CONCURRENCY) {
  const results: Record<Mode, { rps: number; cpu: number; tx: number }[]> = {
    uncounted: [],
    'with-audit': [],
    'own-commit': [],
  };
  for (let i = 0; i < BLOCKS; i++) {
    for (const mode of i % 2 ? [...MODES].reverse() : MODES) {
      setMode(mode);
      results[mode].push(await block(concurrency));
    }
  }
  for (const mode of MODES) {
    const r = results[mode];
    console.log(
      `| ${concurrency} | ${mode} | ${median(r.map((x) => x.rps)).toFixed(0)} | ${median(r.map((x) => x.cpu)).toFixed(0)} | ${median(r.map((x) => x.tx)).toFixed(3)} |`,
    );
  }
}
setMode('with-audit');
await t.close();
