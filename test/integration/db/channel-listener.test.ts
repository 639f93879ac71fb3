import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChannelListener } from '../../../src/db/channel-listener.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';

describe('ChannelListener', () => {
  let db: TestDatabase;
  let sender: pg.Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    sender = new pg.Client({ connectionString: db.url });
    await sender.connect();
  });
  afterAll(async () => {
    await sender?.end();
    await db?.drop();
  });

  const notify = (channel: string, payload: string) =>
    sender.query('SELECT pg_notify($1, $2)', [channel, payload]);

  it('hears its channel only; when its connection is killed it says so, reconnects and hears again', async () => {
    const heard: string[] = [];
    const events: string[] = [];
    const listener = new ChannelListener({
      connection: { connectionString: db.url },
      channel: 'opentsb_test_channel',
      onNotification: (payload) => heard.push(payload),
      onListening: () => events.push('listening'),
      onError: () => events.push('error'),
    });
    try {
      await listener.start();
      await listener.start(); // a second start does nothing
      expect(listener.isListening).toBe(true);
      await notify('opentsb_test_channel', 'one');
      await notify('opentsb_other_channel', 'not ours');
      await vi.waitFor(() => expect(heard).toEqual(['one']));

      const { rows } = await sender.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN opentsb_test_channel'`,
      );
      expect(rows).toHaveLength(1);
      await sender.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await vi.waitFor(() => expect(listener.isListening).toBe(false));
      expect(events).toContain('error');
      // sent while it is not listening: lost, which is why it says it is not listening
      await notify('opentsb_test_channel', 'lost');
      await vi.waitFor(() => expect(listener.isListening).toBe(true), { timeout: 5_000 });
      expect(events.filter((event) => event === 'listening')).toHaveLength(2);
      await notify('opentsb_test_channel', 'two');
      await vi.waitFor(() => expect(heard).toEqual(['one', 'two']));
    } finally {
      await listener.close();
    }
    expect(listener.isListening).toBe(false);
    // closed for good: no reconnection, nothing heard
    await sleep(1_200);
    await notify('opentsb_test_channel', 'after close');
    await sleep(100);
    expect(heard).toEqual(['one', 'two']);
    expect(listener.isListening).toBe(false);
  });

  it('keeps trying, a second apart, while the database refuses it', async () => {
    const errors: unknown[] = [];
    const listener = new ChannelListener({
      connection: { connectionString: db.url.replace(/\/[^/?]+(\?|$)/, '/opentsb_no_such_database$1') },
      channel: 'opentsb_test_channel',
      onNotification: () => {},
      onError: (error) => errors.push(error),
    });
    try {
      await listener.start();
      expect(listener.isListening).toBe(false);
      await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(2), { timeout: 5_000 });
    } finally {
      await listener.close();
    }
  });

  it('refuses a channel name that is not a plain identifier', () => {
    expect(
      () =>
        new ChannelListener({
          connection: { connectionString: db.url },
          channel: 'x; DROP TABLE "Key"',
          onNotification: () => {},
        }),
    ).toThrow(/invalid channel name/);
  });
});
