/**
 * The migration 20261204191500_nfc_key_labels (issue 12, finding 8): stored labels that are not in NFC become
 * NFC, so the composed spelling finds them; a partition that already holds both spellings keeps both rows as
 * they are (nothing merged, nothing lost), and two decomposed spellings of one label do not stop it.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../helpers/app.js';

const MIGRATION = new URL(
  '../../../prisma/migrations/20261204191500_nfc_key_labels/migration.sql',
  import.meta.url,
);
const AES = { algorithm: 'AES', keySize: 256, attributes: { decrypt: true, sign: false, unwrap: false } };

let t: TestContext;
beforeAll(async () => {
  t = await createTestContext();
  await t.partition('legacy');
  await t.partition('other');
});
afterAll(() => t?.close());

/** A key stored under `label` as the service stored it before labels were normalized. */
async function legacyKey(partition: string, label: string): Promise<string> {
  const placeholder = `k-${Math.random().toString(36).slice(2)}`;
  const created = await t.call(partition, ['keyManagement'], {
    method: 'POST',
    url: '/v1/key',
    body: { label: placeholder, ...AES },
  });
  expect(created.statusCode, created.body).toBe(201);
  const key = await t.prisma.key.update({ where: { id: created.json().json.uuid }, data: { label } });
  return key.id;
}

const labelOf = async (id: string) => (await t.prisma.key.findUniqueOrThrow({ where: { id } })).label;

describe('migration: key labels to NFC', () => {
  it('normalizes what it can, and leaves look-alike twins as they are', async () => {
    const decomposed = await legacyKey('legacy', 'Cafe\u0301');
    const twinNfd = await legacyKey('legacy', 'Ame\u0301lie');
    const twinNfc = await legacyKey('legacy', 'Am\u00e9lie');
    // two non-NFC spellings of U+1EAD (a, dot below, circumflex in either order): the first one wins
    const first = await legacyKey('legacy', 'a\u0323\u0302');
    const second = await legacyKey('legacy', 'a\u0302\u0323');
    const elsewhere = await legacyKey('other', 'Cafe\u0301');
    const composed = await legacyKey('legacy', 'plain');

    await t.prisma.$executeRawUnsafe(await readFile(MIGRATION, 'utf8'));

    expect(await labelOf(decomposed)).toBe('Caf\u00e9');
    expect(await labelOf(elsewhere)).toBe('Caf\u00e9');
    expect(await labelOf(twinNfd)).toBe('Ame\u0301lie');
    expect(await labelOf(twinNfc)).toBe('Am\u00e9lie');
    expect(await labelOf(first)).toBe('\u1ead');
    expect(await labelOf(second)).toBe('a\u0302\u0323');
    expect(await labelOf(composed)).toBe('plain');
    expect(await t.prisma.key.count()).toBe(7);

    // the API finds the normalized key under either spelling
    for (const label of ['Caf\u00e9', 'Cafe\u0301']) {
      const found = await t.call('legacy', ['keyManagement'], {
        method: 'POST',
        url: '/v1/key/attributes',
        body: { label },
      });
      expect(found.statusCode, found.body).toBe(200);
      expect(found.json().json.uuid).toBe(decomposed);
    }
    // a second run changes nothing
    expect(await t.prisma.$executeRawUnsafe(await readFile(MIGRATION, 'utf8'))).toBe(0);
  });
});
