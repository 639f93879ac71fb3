import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock.js';
import {
  type AuditEntry,
  type AuditRecord,
  chainRecords,
  GENESIS_HASH,
} from '../../../src/features/audit/audit-chain.js';
import { AuditLog } from '../../../src/features/audit/audit-log.js';

const record = (n: number): AuditRecord => ({
  chain: 'partition-a',
  partitionId: null,
  at: new Date(0),
  credentialId: `apiKey:${n}`,
  roles: [],
  action: 'POST /v1/synchronousSign',
  keyLabel: null,
  requestId: null,
  outcome: 'success',
  statusCode: 200,
  errorCode: null,
});

/** A writer whose appends commit only when the test says so; it remembers each batch's size. */
function heldWriter() {
  const batches: { size: number; commit(): void }[] = [];
  let head = { sequence: 0, hash: GENESIS_HASH };
  const writer = {
    append(_chain: string, records: readonly AuditRecord[]): Promise<AuditEntry[]> {
      const entries = chainRecords(head, records);
      head = { sequence: entries.at(-1)!.sequence, hash: entries.at(-1)!.hash };
      return new Promise((resolve) => batches.push({ size: records.length, commit: () => resolve(entries) }));
    },
  };
  return { writer, batches };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

async function appendMany(log: AuditLog, from: number, count: number): Promise<Promise<void>[]> {
  const answers = Array.from({ length: count }, (_, i) => log.append(record(from + i)));
  await turn();
  await turn();
  return answers;
}

describe('AuditLog: when a flush overlaps the one in flight', () => {
  function logWith(writer: ReturnType<typeof heldWriter>['writer']) {
    return new AuditLog({
      writer,
      repository: { signCheckpoint: async () => null },
      signer: { sign: async () => null },
      clock: systemClock,
      checkpointEvery: 1_000_000,
    });
  }

  it('starts a second flush only once as many records wait as the flush in flight took', async () => {
    const { writer, batches } = heldWriter();
    const log = logWith(writer);
    const first = await appendMany(log, 0, 30);
    expect(batches.map((b) => b.size)).toEqual([30]);
    // 29 waiting: more than the floor of 16, fewer than the 30 in flight
    const waiting = await appendMany(log, 30, 29);
    expect(batches.map((b) => b.size)).toEqual([30]);
    const more = await appendMany(log, 59, 1);
    expect(batches.map((b) => b.size)).toEqual([30, 30]);
    for (const batch of batches) batch.commit();
    await Promise.all([...first, ...waiting, ...more]);
  });

  it('keeps the floor for small batches, and flushes what waits when the one in flight commits', async () => {
    const { writer, batches } = heldWriter();
    const log = logWith(writer);
    const first = await appendMany(log, 0, 2);
    const waiting = await appendMany(log, 2, 15);
    expect(batches.map((b) => b.size)).toEqual([2]);
    const more = await appendMany(log, 17, 1);
    expect(batches.map((b) => b.size)).toEqual([2, 16]);
    const after = await appendMany(log, 18, 5);
    expect(batches.map((b) => b.size)).toEqual([2, 16]);
    batches[0]!.commit();
    batches[1]!.commit();
    await Promise.all([...first, ...waiting, ...more]);
    await turn();
    await turn();
    expect(batches.map((b) => b.size)).toEqual([2, 16, 5]);
    batches[2]!.commit();
    await Promise.all(after);
  });
});
