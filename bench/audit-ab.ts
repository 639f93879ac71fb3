/**
 * In-process A/B of the audit log's cost on an HTTP sign: the test app over `app.inject`, P-256 signs,
 * 2 s blocks alternating the ways, medians of the blocks (the loader shares the process, so read the
 * ratios, not the rates).
 * - `one-flush`: one audit commit at a time (the way before issue 16: maxInFlight 1);
 * - `overlapping`: up to three flushes in flight (the service's way);
 * - `audit-off`: the append answers at once (the floor: what the sign path costs without its entry).
 * Per block: req/s, Node CPU µs per request and database transactions per request.
 *
 * Run: TEST_TEMPLATE_DATABASE=<a migrated template> npx tsx bench/audit-ab.ts [seconds per block] [blocks]
 */
import pg from 'pg';
import { AuditLog } from '../src/features/audit/audit-log.js';
import { createTestContext } from '../test/helpers/app.js';

const BLOCK_SECONDS = Number(process.argv[2] ?? 2);
const BLOCKS = Number(process.argv[3] ?? 6);
const CONCURRENCY = (process.env['AB_CONCURRENCY'] ?? '1,64').split(',').map(Number);

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

// the app's AuditLog, caught on its first append; the ways switch its append and its maxInFlight
const append = AuditLog.prototype.append;
let log: AuditLog | null = null;
const MODES = ['one-flush', 'overlapping', 'audit-off'] as const;
type Mode = (typeof MODES)[number];
let mode: Mode = 'overlapping';
AuditLog.prototype.append = function (this: AuditLog, ...args: Parameters<AuditLog['append']>) {
  log ??= this;
  if (mode === 'audit-off') return Promise.resolve();
  (this as unknown as { maxInFlight: number }).maxInFlight = mode === 'one-flush' ? 1 : 3;
  return append.apply(this, args);
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
  await log?.close();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { rps: done / seconds, cpu: (cpu.user + cpu.system) / done, tx: (transactions - tx0) / done };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const spread = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

await block(16); // warm-up
console.log('| c | way | req/s median (min–max) | Node CPU µs/req | DB transactions/req |');
console.log('|---|---|---|---|---|');
for (const concurrency of CONCURRENCY) {
  const results: Record<Mode, { rps: number; cpu: number; tx: number }[]> = {
    'one-flush': [],
    overlapping: [],
    'audit-off': [],
  };
  for (let i = 0; i < BLOCKS; i++) {
    for (const next of i % 2 ? [...MODES].reverse() : MODES) {
      mode = next;
      results[next].push(await block(concurrency));
    }
  }
  for (const way of MODES) {
    const r = results[way];
    const rps = r.map((x) => x.rps);
    console.log(
      `| ${concurrency} | ${way} | ${median(rps).toFixed(0)} (${spread(rps)}) | ${median(r.map((x) => x.cpu)).toFixed(0)} | ${median(r.map((x) => x.tx)).toFixed(3)} |`,
    );
  }
}
mode = 'overlapping';
await t.close();
