/**
 * A RESTORE_KEY or PURGE_KEY statement names a label; the proposal is about the key that was in the trash bin
 * under that label when it was proposed. Approved after that key left the trash and another key of the same label
 * was deleted into it, it does nothing to the newcomer: the proposal FAILS (404 / 650) and the key stays where it is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../../helpers/app.js';
import { P256, SIGN_ONLY, workflowContext } from '../workflow/fixtures.js';
import { decide, expectTsbError, nodeOfficer, proposed, registerOfficer, statementOf } from './fixtures.js';

const P = 'recycled-labels';
const KM = ['keyManagement'] as const;
let ctx: TestContext;
const [alice, bob] = [nodeOfficer('alice', 'P-256'), nodeOfficer('bob', 'Ed25519')];

beforeAll(async () => {
  ctx = await workflowContext(P, { worker: false }, { keyInvalidation: true });
  await registerOfficer(ctx, P, alice);
  await registerOfficer(ctx, P, bob);
});
afterAll(async () => ctx?.close());

/** Creates a key under `label`, deletes it into the trash bin, and answers its id. */
async function trashedKey(label: string): Promise<string> {
  const created = await ctx.call(P, [...KM], {
    method: 'POST',
    url: '/v1/key',
    body: { label, algorithm: 'EC', curveOid: P256, attributes: { ...SIGN_ONLY, destroyable: true } },
  });
  expect(created.statusCode, created.body).toBe(201);
  const deleted = await ctx.call(P, [...KM], { method: 'DELETE', url: `/v1/key/${label}` });
  expect(deleted.statusCode, deleted.body).toBe(200);
  const row = await ctx.prisma.key.findFirstOrThrow({ where: { label, status: 'invalidated' } });
  return row.id;
}

const proposal = (action: string, label: string) =>
  proposed(ctx, P, alice, statementOf(action, { label }, P, ctx.hsm.clock.now()));

describe('a trash-bin proposal acts on the key it was proposed for', () => {
  for (const action of ['RESTORE_KEY', 'PURGE_KEY']) {
    it(`${action} proposed for one key does nothing to a later key of the same label (404 / 650, FAILED)`, async () => {
      const label = `recycled-${action.toLowerCase()}`;
      const first = await trashedKey(label);
      const stale = await proposal(action, label);
      // the first key leaves the trash bin for good, and another key of the label is deleted into it
      expect((await decide(ctx, P, bob, await proposal('PURGE_KEY', label))).json().status).toBe('EXECUTED');
      const second = await trashedKey(label);
      expect(second).not.toBe(first);

      expectTsbError(await decide(ctx, P, bob, stale), 404, 650);
      const row = await ctx.prisma.officerProposal.findUniqueOrThrow({ where: { id: stale.id } });
      expect(row).toMatchObject({ status: 'FAILED', errorCode: 650 });
      const newcomer = await ctx.prisma.key.findUnique({ where: { id: second } });
      expect(newcomer?.status).toBe('invalidated');
    });
  }

  it('a proposal for the key still in the trash bin runs as before', async () => {
    const id = await trashedKey('recycled-same');
    expect((await decide(ctx, P, bob, await proposal('RESTORE_KEY', 'recycled-same'))).json().status).toBe(
      'EXECUTED',
    );
    expect((await ctx.prisma.key.findUniqueOrThrow({ where: { id } })).status).toBe('active');
  });
});
