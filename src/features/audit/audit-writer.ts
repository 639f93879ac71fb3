/**
 * Appends entries to a chain through its own small `pg` pool rather than Prisma: the append is one prepared
 * statement, and measured here a 64-entry append took 7.6 ms through Prisma's raw query against 3.5 ms
 * through a prepared `pg` statement (PostgreSQL under load; a bare commit took 3 ms).
 */
import pg from 'pg';
import { inTransaction, queryRows, type Statement } from '../../db/sql.js';
import { type AuditEntry, type AuditRecord, chainRecords, GENESIS_HASH } from './audit-chain.js';

interface HeadState {
  sequence: number;
  hash: Buffer;
}

/** The head this process expects: committed (written null), or that of an append still in flight. */
interface Guess {
  head: HeadState;
  /** resolves true once that append committed, false when it did not */
  written: Promise<boolean> | null;
}

function headOf(entries: readonly AuditEntry[]): HeadState {
  const last = entries[entries.length - 1]!;
  return { sequence: last.sequence, hash: last.hash };
}

/**
 * Moves the chain's head and inserts the rows, only if the head is still the expected one (sequence and
 * hash): the UPDATE takes the row lock and re-checks the head against the latest committed row, and the rows
 * go in one multi-row INSERT, all or nothing. The rows travel as one JSON array (`json_to_recordset`):
 * serializing it costs this process about a quarter less CPU per entry than one `pg` array literal per column
 * did (bench/results/README.md, twelfth session). Hashes go as hex. The statements below answer how many rows
 * they inserted: 0 when another writer moved the head first.
 */
const MOVE_AND_INSERT = `
    WITH moved AS (
      UPDATE "AuditHead" SET "sequence" = $1::bigint, "hash" = $2::bytea
      WHERE "chain" = $3 AND "sequence" = $4::bigint AND "hash" = $5::bytea
      RETURNING 1
    ), inserted AS (
      INSERT INTO "AuditEntry" ("chain", "sequence", "partitionId", "at", "credentialId", "roles", "action",
        "keyLabel", "requestId", "outcome", "statusCode", "errorCode", "count", "firstAt", "clientAddress",
        "prevHash", "hash")
      SELECT $3, e.s, e.p::uuid, e.a::timestamp(3), e.c, string_to_array(e.r, ','), e.x, e.k, e.q, e.o, e.sc,
        e.ec, e.n, e.f::timestamp(3), e.ca, decode(e.ph, 'hex'), decode(e.h, 'hex')
      FROM json_to_recordset($6::json) AS e(s bigint, p text, a text, c text, r text, x text, k text, q text,
        o text, sc int, ec int, n int, f text, ca text, ph text, h text)
      WHERE EXISTS (SELECT 1 FROM moved)
      RETURNING 1
    )`;

const INSERTED = 'SELECT count(*)::int AS inserted FROM inserted';

/** A batch whose requests used no key. */
const APPEND_NO_KEY: Statement = {
  name: 'opentsb-audit-append-no-key',
  text: `${MOVE_AND_INSERT} ${INSERTED}`,
};

/**
 * A batch whose requests used one key (a lone sign, and most batches of one client): `$8` uses of the key `$7`,
 * added to `Key.useCount` in the same statement, only when the head moved (see `UseCounter.deferInto`). One
 * UPDATE by id: at c = 1 the general form's join and row locks took ≈ 0.1 ms more per statement (PostgreSQL
 * 15, bench/results/README.md, fourteenth session). The head row is locked before the key row, as in the
 * general form: the UPDATE's EXISTS is a one-time filter that runs `moved` before the key row is read.
 */
const APPEND_ONE_KEY: Statement = {
  name: 'opentsb-audit-append-one-key',
  text: `${MOVE_AND_INSERT}, used AS (
      UPDATE "Key" SET "useCount" = "useCount" + $8::bigint
      WHERE "id" = $7::uuid AND EXISTS (SELECT 1 FROM moved)
    )
    ${INSERTED}`,
};

/**
 * A batch whose requests used several keys: as above, the key uses of the batch's requests added to
 * `Key.useCount` in the same statement, only when the head moved: a request's use count commits with its
 * entry, or neither does. The head row is locked first (`moved` runs before `counted` reads it), then the
 * key rows in the order of their id (as `use-count-writers.ts` does), so no two writers wait for each other in
 * a circle.
 */
const APPEND_KEYS: Statement = {
  name: 'opentsb-audit-append',
  text: `${MOVE_AND_INSERT}, counted AS (
      SELECT k.id, u.n FROM "Key" AS k
      JOIN unnest($7::uuid[], $8::bigint[]) AS u(id, n) ON k.id = u.id
      WHERE EXISTS (SELECT 1 FROM moved)
      ORDER BY k.id FOR UPDATE OF k
    ), used AS (
      UPDATE "Key" AS k SET "useCount" = k."useCount" + counted.n FROM counted WHERE k.id = counted.id
    )
    ${INSERTED}`,
};

/** Key uses to add to `Key.useCount` with a batch: `counts[i]` uses of the key `ids[i]`, each id once. */
export interface KeyUses {
  ids: readonly string[];
  counts: readonly number[];
}

const NO_USES: KeyUses = { ids: [], counts: [] };

/** An entry as one element of the statement's JSON rows (the column names of its `json_to_recordset`). */
function rowOf(entry: AuditEntry) {
  const { summary } = entry;
  return {
    s: entry.sequence,
    p: entry.partitionId,
    a: entry.at.toISOString(),
    c: entry.credentialId,
    r: entry.roles.join(','),
    x: entry.action,
    k: entry.keyLabel,
    q: entry.requestId,
    o: entry.outcome,
    sc: entry.statusCode,
    ec: entry.errorCode,
    n: summary?.count ?? null,
    f: summary?.firstAt.toISOString() ?? null,
    ca: summary?.clientAddress ?? null,
    ph: entry.prevHash.toString('hex'),
    h: entry.hash.toString('hex'),
  };
}

/** The statement that appends `entries` with `uses`, and its values. */
function appendStatement(
  chain: string,
  expected: HeadState,
  entries: readonly AuditEntry[],
  uses: KeyUses,
): [Statement, unknown[]] {
  const last = entries[entries.length - 1]!;
  const values = [
    last.sequence,
    last.hash,
    chain,
    expected.sequence,
    expected.hash,
    JSON.stringify(entries.map(rowOf)),
  ];
  if (uses.ids.length === 0) return [APPEND_NO_KEY, values];
  if (uses.ids.length === 1) return [APPEND_ONE_KEY, [...values, uses.ids[0], uses.counts[0]]];
  return [APPEND_KEYS, [...values, uses.ids, uses.counts]];
}

export class AuditWriter {
  private readonly pool: pg.Pool;
  /** the head this process last wrote per chain: a guess that saves the locking round trips when it holds */
  private readonly heads = new Map<string, Guess>();
  /** the append on the locked path per chain, while it runs */
  private readonly locking = new Map<string, Promise<AuditEntry[]>>();

  constructor(databaseUrl: string, onPoolError?: (error: Error) => void) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    // an idle connection that breaks must not take the process down; the next append reconnects
    this.pool.on('error', (error) => onPoolError?.(error));
  }

  /**
   * Appends records to one chain, all or nothing, without gaps even when several processes append to
   * the same chain. Fast path, one round trip: link the records after the head this process wrote last
   * (or is writing: an append started while an earlier one is in flight links after the earlier one's
   * entries, and PostgreSQL makes its head update wait for the earlier one's) and append them if the head
   * is still there. Otherwise (first write, another process appended meanwhile, or the earlier append
   * failed): one transaction that locks the head row (SELECT … FOR UPDATE, inserting it at the genesis
   * when missing), links the records after it and appends them.
   */
  async append(
    chain: string,
    records: readonly AuditRecord[],
    uses: KeyUses = NO_USES,
  ): Promise<AuditEntry[]> {
    let known = this.heads.get(chain);
    const locking = known ? undefined : this.locking.get(chain);
    if (locking) {
      // the first append of this process takes the locked path: wait for it and link after it (in order)
      await locking.catch(() => {});
      known = this.heads.get(chain);
    }
    if (known) {
      const entries = chainRecords(known.head, records);
      let settle: (appended: boolean) => void = () => {};
      const next: Guess = {
        head: headOf(entries),
        written: new Promise<boolean>((resolve) => {
          settle = resolve;
        }),
      };
      this.heads.set(chain, next);
      let appended = false;
      try {
        appended = await this.tryAppend(this.pool, chain, known.head, entries, uses);
        // it may have overtaken the append it is linked after: once that one is in, the same statement fits
        if (!appended && known.written && (await known.written))
          appended = await this.tryAppend(this.pool, chain, known.head, entries, uses);
      } finally {
        settle(appended);
        // the guess was wrong (or the statement failed): nobody may link after these entries
        if (!appended && this.heads.get(chain) === next) this.heads.delete(chain);
      }
      if (appended) return entries;
    }
    const locked = this.appendLocked(chain, records, uses);
    this.locking.set(chain, locked);
    let entries: AuditEntry[];
    try {
      entries = await locked;
    } finally {
      if (this.locking.get(chain) === locked) this.locking.delete(chain);
    }
    // an append that started meanwhile may have guessed further already; a wrong guess only costs the
    // locked path
    const head = headOf(entries);
    if ((this.heads.get(chain)?.head.sequence ?? 0) < head.sequence)
      this.heads.set(chain, { head, written: null });
    return entries;
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private async appendLocked(
    chain: string,
    records: readonly AuditRecord[],
    uses: KeyUses,
  ): Promise<AuditEntry[]> {
    return inTransaction(this.pool, async (client) => {
      const head = await this.lockHead(client, chain);
      const entries = chainRecords(head, records);
      if (!(await this.tryAppend(client, chain, head, entries, uses)))
        throw new Error(`the head of audit chain ${chain} moved while it was locked`);
      return entries;
    });
  }

  private async lockHead(client: pg.PoolClient, chain: string): Promise<HeadState> {
    const select = () =>
      client.query<{ sequence: string; hash: Buffer }>(
        'SELECT "sequence"::text AS sequence, "hash" FROM "AuditHead" WHERE "chain" = $1 FOR UPDATE',
        [chain],
      );
    let { rows } = await select();
    if (rows.length === 0) {
      // a racing process may insert it first: then this waits for its commit and the SELECT sees its head
      await client.query(
        'INSERT INTO "AuditHead" ("chain", "sequence", "hash") VALUES ($1, 0, $2) ON CONFLICT ("chain") DO NOTHING',
        [chain, GENESIS_HASH],
      );
      ({ rows } = await select());
    }
    const row = rows[0]!;
    return { sequence: Number(row.sequence), hash: Buffer.from(row.hash) };
  }

  private async tryAppend(
    client: pg.Pool | pg.PoolClient,
    chain: string,
    expected: HeadState,
    entries: readonly AuditEntry[],
    uses: KeyUses,
  ): Promise<boolean> {
    const [row] = await queryRows(client, ...appendStatement(chain, expected, entries, uses));
    return row?.[0] === entries.length;
  }
}
