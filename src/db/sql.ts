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
  const result = await pool.query({ ...statement, values: [...values], rowMode: 'array', types });
  return result.rows as unknown[][];
}

/** Runs a prepared statement; the number of rows it changed. */
export async function execute(
  pool: Queryable,
  statement: Statement,
  values: readonly unknown[],
): Promise<number> {
  const result = await pool.query({ ...statement, values: [...values], types });
  return result.rowCount ?? 0;
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
