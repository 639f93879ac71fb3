import { afterAll, beforeAll, expect, it } from 'vitest';
import { TsbError } from '../../src/errors.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { exportBackup } from '../helpers/backup.js';

/** Two restores of one backup at once (two operators, a retried script): one restores, the other is refused as a conflict (it was a unique-key crash). */
let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
});
afterAll(async () => {
  await t?.close();
});

it('restores a backup once when two restores of it race; the other is refused as a conflict, not a crash', async () => {
  const partition = await t.partition('twice');
  const created = await t.call('twice', ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: { label: 'k', algorithm: 'ED', attributes: { sign: true, decrypt: false, unwrap: false } },
  });
  expect(created.statusCode, created.body).toBe(201);
  const backup = await exportBackup(t.hsm, partition.id);
  for (let round = 0; round < 6; round++) {
    await t.prisma.partition.delete({ where: { id: partition.id } });
    const outcomes = await Promise.allSettled([t.hsm.backups.restore(backup), t.hsm.backups.restore(backup)]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const [refused] = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
    expect(refused).toBeInstanceOf(TsbError);
    expect((refused as TsbError).kind).toBe('PROPOSAL_CONFLICT');
    expect(await t.prisma.key.count({ where: { partitionId: partition.id } })).toBe(1);
  }
});
