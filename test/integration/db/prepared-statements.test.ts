import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execute, inTransaction, queryRows, type Statement } from '../../../src/db/sql.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

/** What the server sent each connection in answer to a Describe, and how often it parsed a statement. */
interface Heard {
  rowDescriptions: number;
  noData: number;
  parses: number[];
}

describe('prepared statements (db/sql.ts)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const heard: Heard = { rowDescriptions: 0, noData: 0, parses: [] };

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pool.on('connect', (client) => {
      const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
      const index = heard.parses.push(0) - 1;
      connection.on('rowDescription', () => heard.rowDescriptions++);
      connection.on('noData', () => heard.noData++);
      connection.on('parseComplete', () => heard.parses[index]!++);
    });
    await pool.query(`
      CREATE TABLE sample (
        id int PRIMARY KEY, at timestamp(3), data bytea, label text, tags text[], count bigint NOT NULL DEFAULT 0
      )`);
    await pool.query(
      `INSERT INTO sample VALUES (1, '2026-12-06 05:45:00.123', '\\x00ff10', 'one', '{a,b}', 7)`,
    );
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  const READ: Statement = {
    name: 'test-read-sample',
    text: 'SELECT id, at, data, label, tags, count, $1::text AS echo FROM sample WHERE id = $2',
  };
  const BUMP: Statement = {
    name: 'test-bump-sample',
    text: 'UPDATE sample SET count = count + 1 WHERE id = ANY($1::int[])',
  };
  const INSERT: Statement = {
    name: 'test-insert-sample',
    text: 'INSERT INTO sample (id, label) VALUES ($1, $2)',
  };

  const expectedRow = (echo: string) => [
    1,
    new Date('2026-12-06T05:45:00.123Z'),
    Buffer.from([0x00, 0xff, 0x10]),
    'one',
    ['a', 'b'],
    '7',
    echo,
  ];

  it('asks for a statement’s row description once per process, whatever the connection, and reads the same rows', async () => {
    expect(await queryRows(pool, READ, ['first', 1])).toEqual([expectedRow('first')]);
    expect(heard.rowDescriptions).toBe(1);
    // both connections of the pool at once: the second parses the statement, neither describes it again
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, index) => queryRows(pool, READ, [`call ${index}`, 1])),
    );
    expect(answers).toEqual(answers.map((_, index) => [expectedRow(`call ${index}`)]));
    expect(heard.parses).toEqual([1, 1]);
    expect(heard.rowDescriptions).toBe(1);
    expect(await queryRows(pool, READ, ['none', 2])).toEqual([]);
    expect(heard.rowDescriptions).toBe(1);
  });

  it('counts the rows a statement without rows changed, asking what it returns once', async () => {
    await pool.query(`INSERT INTO sample (id, count) VALUES (3, 40)`);
    const noDataBefore = heard.noData;
    expect(await execute(pool, BUMP, [[3, 4]])).toBe(1);
    expect(await execute(pool, BUMP, [[3]])).toBe(1);
    expect(await execute(pool, BUMP, [[5]])).toBe(0);
    expect(heard.noData - noDataBefore).toBe(1);
    expect((await pool.query('SELECT count FROM sample WHERE id = 3')).rows).toEqual([{ count: '42' }]);
  });

  it('rejects a failing statement and a value that cannot be sent, and the connections go on working', async () => {
    await execute(pool, INSERT, [10, 'ten']);
    await expect(execute(pool, INSERT, [10, 'again'])).rejects.toMatchObject({ code: '23505' });
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    await expect(execute(pool, INSERT, [11, circular])).rejects.toThrow(/circular/i);
    await execute(pool, INSERT, [12, 'twelve']);
    const labels = await pool.query('SELECT id, label FROM sample WHERE id >= 10 ORDER BY id');
    expect(labels.rows).toEqual([
      { id: 10, label: 'ten' },
      { id: 12, label: 'twelve' },
    ]);
    expect(await queryRows(pool, READ, ['still', 1])).toEqual([expectedRow('still')]);
  });

  it('runs on one connection inside a transaction: committed when the work answers, rolled back when it throws', async () => {
    await inTransaction(pool, async (client) => {
      await execute(client, INSERT, [20, 'kept']);
      expect(await queryRows(client, READ, ['in transaction', 1])).toEqual([expectedRow('in transaction')]);
    });
    await expect(
      inTransaction(pool, async (client) => {
        await execute(client, INSERT, [21, 'dropped']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const ids = await pool.query('SELECT id FROM sample WHERE id IN (20, 21) ORDER BY id');
    expect(ids.rows).toEqual([{ id: 20 }]);
  });
});
