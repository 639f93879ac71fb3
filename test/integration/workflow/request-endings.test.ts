import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sqlPoolOf } from '../../../src/db/prisma.js';
import { RequestEndings } from '../../../src/features/approvals/request-endings.js';
import { RequestsRepository } from '../../../src/features/approvals/requests.repository.js';
import type { Partition } from '../../../src/generated/prisma/client.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.js';
import { storedRequest } from '../../helpers/stored-requests.js';

/**
 * Ending notifications (request-endings.ts): sent by the commit of an ended status, to every process that
 * listens, and never for a change that did not happen (read-your-approval.test.ts: `awaitExecution` on them).
 */
describe('request ending notifications', () => {
  let db: TestDatabase;
  let repository: RequestsRepository;
  let endings: RequestEndings;
  let partition: Partition;
  const warnings: unknown[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    repository = new RequestsRepository(db.prisma);
    const record = (...line: unknown[]) => {
      warnings.push(line);
    };
    endings = new RequestEndings(sqlPoolOf(db.prisma).options, {
      error: record,
      warn: record,
      info: () => {},
      debug: () => {},
    });
    partition = await db.prisma.partition.create({
      data: {
        name: 'endings',
        partitionKeySealed: randomBytes(8),
        attestationKeySealed: randomBytes(8),
        attestationPublicKey: randomBytes(8),
      },
    });
    // the first watch starts listening
    endings.watch(randomUUID()).stop();
    await vi.waitFor(() => expect(endings.listening).toBe(true));
  });
  afterAll(async () => {
    expect(warnings).toEqual([]);
    await endings?.close();
    await db?.drop();
  });

  /** A request of one approver, approved and claimed for execution at `claimedAt`. */
  async function claimedRequest(claimedAt: Date): Promise<string> {
    const request = storedRequest(partition.id, {
      createdAt: new Date(claimedAt.getTime() - 60_000),
      expiresAt: null,
    });
    const { id } = request;
    await repository.create(request);
    const approved = { status: 'APPROVED' as const, executableAt: claimedAt, executionClaimedAt: claimedAt };
    expect(await repository.transition(id, 'PENDING', approved)).toBe(true);
    return id;
  }

  /** Which of `ids` were notified within `ms`. */
  async function notifiedWithin(ids: readonly string[], ms: number, act: () => Promise<unknown>) {
    const notified: string[] = [];
    const watches = ids.map((id) => {
      const watch = endings.watch(id);
      void watch.ended.then(() => notified.push(id));
      return watch;
    });
    expect(watches.every((watch) => watch.listening)).toBe(true);
    await act();
    await sleep(ms);
    for (const watch of watches) watch.stop();
    return notified;
  }

  it('a stored execution notifies its own watchers at commit; a refused one and an open change notify nobody', async () => {
    const claimedAt = new Date();
    const [one, other] = [await claimedRequest(claimedAt), await claimedRequest(claimedAt)];
    const outcome = { result: 'c2ln', executedAt: new Date() };
    // a stale claim stores nothing
    expect(
      await notifiedWithin([one, other], 150, async () =>
        expect(
          await repository.completeExecution(one, new Date(claimedAt.getTime() + 1), outcome, null),
        ).toBe(false),
      ),
    ).toEqual([]);
    // a change that leaves the request open (the claim released) is no end
    expect(
      await notifiedWithin([one], 150, async () =>
        expect(
          await repository.transition(
            one,
            'APPROVED',
            { status: 'APPROVED', executionClaimedAt: null },
            { executionClaimedAt: claimedAt },
          ),
        ).toBe(true),
      ),
    ).toEqual([]);
    expect(await repository.claimExecution(one, claimedAt, new Date(claimedAt.getTime() - 1))).not.toBeNull();
    // the id is matched whatever its case
    expect(
      await notifiedWithin([one.toUpperCase(), other], 150, async () =>
        expect(await repository.completeExecution(one, claimedAt, outcome, null)).toBe(true),
      ),
    ).toEqual([one.toUpperCase()]);
  });

  it('a change to an ended status notifies; the same change refused by its condition does not', async () => {
    const claimedAt = new Date();
    const id = await claimedRequest(claimedAt);
    const failed = { status: 'FAILED' as const, errorCode: 1, errorMessage: 'no', executedAt: new Date() };
    expect(
      await notifiedWithin([id], 150, async () =>
        expect(await repository.transition(id, 'PENDING', failed)).toBe(false),
      ),
    ).toEqual([]);
    expect(
      await notifiedWithin([id], 150, async () =>
        expect(await repository.transition(id, 'APPROVED', failed, { executionClaimedAt: claimedAt })).toBe(
          true,
        ),
      ),
    ).toEqual([id]);
  });
});
