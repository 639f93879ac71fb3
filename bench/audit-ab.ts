/**
 * In-process A/B of the audit log's cost on an HTTP sign (harness: bench/inject-ab.ts).
 * - `one-flush`: one audit commit at a time (the way before issue 16: maxInFlight 1);
 * - `overlapping`: up to three flushes in flight (the service's way);
 * - `audit-off`: the append answers at once (the floor: what the sign path costs without its entry).
 *
 * Run: TEST_TEMPLATE_DATABASE=<a migrated template> npx tsx bench/audit-ab.ts [seconds per block] [blocks]
 */
import { AuditLog } from '../src/features/audit/audit-log.js';
import { runAb, signContext } from './inject-ab.js';

const WAYS = ['one-flush', 'overlapping', 'audit-off'] as const;
type Way = (typeof WAYS)[number];

// the app's AuditLog, caught on its first append; the ways switch its append and its maxInFlight
const append = AuditLog.prototype.append;
let log: AuditLog | null = null;
let way: Way = 'overlapping';
AuditLog.prototype.append = function (this: AuditLog, ...args: Parameters<AuditLog['append']>) {
  log ??= this;
  if (way === 'audit-off') return Promise.resolve();
  (this as unknown as { maxInFlight: number }).maxInFlight = way === 'one-flush' ? 1 : 3;
  return append.apply(this, args);
};

const { t, sign } = await signContext();
await runAb({
  sign,
  ways: WAYS,
  setWay: (next) => {
    way = next;
  },
  warmUpWay: 'overlapping',
  concurrencies: (process.env['AB_CONCURRENCY'] ?? '1,64').split(',').map(Number),
  blocks: Number(process.argv[3] ?? 6),
  blockSeconds: Number(process.argv[2] ?? 2),
  // a block ends when its audit entries are in
  settle: async () => {
    await log?.close();
  },
});
await t.close();
