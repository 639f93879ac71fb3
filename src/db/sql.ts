/**
 * Prepared statements sent through `pg` directly, for the hot paths where Prisma's query interpreter costs
 * more than the statement (measured in bench/results/README.md). Prisma stores `DateTime` as
 * `timestamp(3)` holding UTC; these helpers keep that whatever the process's time zone: dates go out as
 * ISO strings (a zone in the input of a `timestamp` is ignored, so the UTC digits are stored) and come
 * back parsed as UTC.
 */
import pg from 'pg';

const TIMESTAMP_OID = 1114;

function parseUtcTimestamp(text: string): Date {
  return new Date(`${text.replace(' ', 'T')}Z`);
}

const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === TIMESTAMP_OID && format !== 'binary'
      ? parseUtcTimestamp
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** A statement prepared once per connection under its name. */
export interface Statement {
  name: string;
  text: string;
}

/** A date as a statement parameter (cast it with `::timestamp(3)` in the statement). */
export function timestampParam(date: Date | null | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** Where statements go: the pool (each on any connection) or one connection (in a transaction). */
export type Queryable = pg.Pool | pg.PoolClient;

/** Runs a prepared statement; rows as arrays of column values, in the order of the statement's columns. */
export async function queryRows(
  pool: Queryable,
  statement: Statement,
  values: readonly unknown[],
): Promise<unknown[][]> {
  const result = await send(pool, new PreparedQuery(statement, values));
  return result.rows as unknown[][];
}

/** Runs a prepared statement; the number of rows it changed. */
export async function execute(
  pool: Queryable,
  statement: Statement,
  values: readonly unknown[],
): Promise<number> {
  const result = await send(pool, new PreparedQuery(statement, values));
  return result.rowCount ?? 0;
}

function send(pool: Queryable, query: PreparedQuery): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    const answered = (error: Error | undefined, result: pg.QueryResult) =>
      error ? reject(error) : resolve(result);
    (pool as unknown as { query(query: PreparedQuery, callback: typeof answered): void }).query(
      query,
      answered,
    );
  });
}

/** What PostgreSQL said a prepared statement's rows hold: their columns, and the parser of each column. */
interface RowDescription {
  fields: unknown[];
  parsers: ((text: string) => unknown)[];
}

/** The row descriptions of the prepared statements, by text: a statement gives the same rows on every connection. */
const rowDescriptions = new Map<string, RowDescription>();

/** The parts of `pg`'s Query and Connection (pg 8) a {@link PreparedQuery} works with. */
interface QueryInternals {
  text: string;
  _accumulateRows: boolean;
  _result: { fields: unknown[]; _parsers: RowDescription['parsers'] | undefined };
}
interface ConnectionInternals {
  describe(message: { type: 'P'; name: string }): void;
}
interface QueryMessages {
  prepare(connection: ConnectionInternals): void;
  handleRowDescription(message: unknown): void;
  handleCommandComplete(message: unknown, connection: unknown): void;
}
const pgQuery = pg.Query.prototype as unknown as QueryMessages;
const skipDescribe: ConnectionInternals['describe'] = () => {};

/**
 * A named prepared statement that asks PostgreSQL for its row description only the first time this process
 * runs it: pg asks on every execution and builds its row parsers again from the answer (≈ 5 % of the API's
 * event loop in the approval flow, bench/results/README.md). Later executions use the parsers kept from the
 * first answer, on any connection: a statement's columns and their types are fixed by its text (and by the
 * schema, which migrations change only before the service starts).
 */
class PreparedQuery extends pg.Query {
  private described = false;

  constructor(statement: Statement, values: readonly unknown[]) {
    super({
      name: statement.name,
      text: statement.text,
      values: [...values],
      rowMode: 'array',
      types,
    } as pg.QueryConfig);
  }

  prepare(connection: ConnectionInternals): void {
    const self = this as unknown as QueryInternals;
    const known = rowDescriptions.get(self.text);
    if (!known) {
      pgQuery.prepare.call(this, connection);
      return;
    }
    self._result.fields = known.fields;
    self._result._parsers = known.parsers;
    self._accumulateRows = true;
    // pg's own steps (parse when new to this connection, bind, execute, sync), without the describe
    connection.describe = skipDescribe;
    try {
      pgQuery.prepare.call(this, connection);
    } finally {
      delete (connection as Partial<ConnectionInternals>).describe;
    }
  }

  handleRowDescription(message: unknown): void {
    pgQuery.handleRowDescription.call(this, message);
    this.described = true;
    const { text, _result } = this as unknown as QueryInternals;
    rowDescriptions.set(text, { fields: _result.fields, parsers: _result._parsers ?? [] });
  }

  handleCommandComplete(message: unknown, connection: unknown): void {
    pgQuery.handleCommandComplete.call(this, message, connection);
    const { text } = this as unknown as QueryInternals;
    // asked, and no row description came: the statement returns no rows (PostgreSQL answered NoData)
    if (!this.described && !rowDescriptions.has(text)) rowDescriptions.set(text, { fields: [], parsers: [] });
  }
}

/** Runs `work` in one transaction on one connection of the pool: committed when it answers, rolled back when it throws. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const answer = await work(client);
    await client.query('COMMIT');
    return answer;
  } catch (error) {
    // a connection that cannot even roll back leaves the pool
    broken = await client.query('ROLLBACK').then(
      () => false,
      () => true,
    );
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Columns read into an object of type `T`: `columns` must name every property of `T` (checked by the
 * compiler at the call site through {@link allColumns}).
 */
export function rowObject<T>(columns: readonly (keyof T & string)[], row: readonly unknown[], offset = 0): T {
  const object: Record<string, unknown> = {};
  for (let index = 0; index < columns.length; index++) object[columns[index]!] = row[offset + index];
  return object as T;
}

/** `columns`, checked to name every property of `T` (a missing one is a compile error). */
export function allColumns<T>() {
  return <const C extends readonly (keyof T & string)[]>(
    columns: C &
      ([Exclude<keyof T, C[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, C[number]> }),
  ): C => columns;
}
