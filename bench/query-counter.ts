/**
 * Preloaded into a service process by bench/workflow-bench.ts (`--import ./bench/query-counter.ts`, after
 * tsx): counts the SQL statements the process sends to PostgreSQL (every `pg` Client.query, which is one
 * round trip: Prisma's adapter, the use counter, LISTEN, BEGIN/COMMIT alike), by leading keyword.
 * On SIGWINCH (ignored by default, and not one of the signals close-with-grace shuts down on) it writes one line `QUERYCOUNT {"total":…,"SELECT":…}` to stderr. Not for production.
 */
import pg from 'pg';

const counts: Record<string, number> = { total: 0 };

type Query = (...args: unknown[]) => unknown;
const prototype = pg.Client.prototype as unknown as { query: Query };
const original = prototype.query;
prototype.query = function countedQuery(this: unknown, ...args: unknown[]) {
  const first = args[0];
  const text =
    typeof first === 'string'
      ? first
      : typeof first === 'object' && first !== null && 'text' in first
        ? String((first as { text: unknown }).text)
        : '';
  const kind = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'OTHER';
  counts['total'] = (counts['total'] ?? 0) + 1;
  counts[kind] = (counts[kind] ?? 0) + 1;
  return original.apply(this, args);
};

process.on('SIGWINCH', () => {
  process.stderr.write(`QUERYCOUNT ${JSON.stringify(counts)}\n`);
});
