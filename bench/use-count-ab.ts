/**
 * In-process A/B of how an HTTP sign's key use is made durable (harness: bench/inject-ab.ts).
 * - `with-audit`: the use commits in the request's audit entry statement (the service's way);
 * - `own-commit`: the use commits in a group commit of its own before the handler answers, then the audit
 *   entry commits (the way before; simulated by not deferring the uses);
 * - `uncounted`: the use is not counted at all (the floor: what the sign path costs without its count).
 *
 * Run: TEST_TEMPLATE_DATABASE=<a migrated template> npx tsx bench/use-count-ab.ts [seconds per block] [blocks]
 */
import { DeferredUses } from '../src/keystore/deferred-uses.js';
import { runAb, signContext } from './inject-ab.js';

const { t, sign } = await signContext();
const counter = t.hsm.useCounter;
const deferInto = counter.deferInto.bind(counter);
const WAYS = ['uncounted', 'own-commit', 'with-audit'] as const;
type Way = (typeof WAYS)[number];
function setWay(way: Way) {
  counter.deferInto = {
    'with-audit': deferInto,
    'own-commit': <T>(_uses: DeferredUses, fn: () => T) => fn(),
    // deferred into a collector nobody takes
    uncounted: <T>(_uses: DeferredUses, fn: () => T) => deferInto(new DeferredUses(), fn),
  }[way];
}

await runAb({
  sign,
  ways: WAYS,
  setWay,
  warmUpWay: 'with-audit',
  concurrencies: (process.env['AB_CONCURRENCY'] ?? '1,16,64').split(',').map(Number),
  blocks: Number(process.argv[3] ?? 6),
  blockSeconds: Number(process.argv[2] ?? 2),
});
await t.close();
