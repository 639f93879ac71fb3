/**
 * Issue 12, finding 8: a label names one key the way an approver reads it. Labels with characters that
 * hide or reorder text (controls, bidi overrides and isolates, zero-width and other format characters,
 * separators other than the space) are refused with 610; labels compare in Unicode NFC, so the decomposed
 * spelling of a label finds the same key and cannot make a twin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/app.js';

const P = 'labels';
let t: TestContext;
const AES = { algorithm: 'AES', keySize: 256, attributes: { decrypt: true, sign: false, unwrap: false } };
const EC_DERIVE = {
  algorithm: 'EC',
  curveOid: '1.3.132.0.10',
  attributes: { sign: true, decrypt: false, unwrap: false, derive: true, bip32: true },
};

const create = (label: string, body: object = AES) =>
  t.call(P, ['keyManagement'], { method: 'POST', url: '/v1/key', body: { label, ...body } });
const attributes = (label: string) =>
  t.call(P, ['keyManagement'], { method: 'POST', url: '/v1/key/attributes', body: { label } });

const NFC = 'Caf\u00e9 Z\u00fcrich';
const NFD = 'Cafe\u0301 Zu\u0308rich';

beforeAll(async () => {
  t = await createTestContext();
  await t.partition(P);
});
afterAll(() => t?.close());

describe('characters a label may not hold', () => {
  it.each([
    ['a right-to-left override (U+202E)', 'pay\u202Etnuocca', 'U+202E'],
    ['a left-to-right embedding (U+202A)', '\u202Aabc', 'U+202A'],
    ['a first-strong isolate (U+2068)', 'ab\u2068c\u2069', 'U+2068'],
    ['a right-to-left mark (U+200F)', 'abc\u200F', 'U+200F'],
    ['a left-to-right mark (U+200E)', '\u200Eabc', 'U+200E'],
    ['a zero-width space (U+200B)', 'pay\u200Bments', 'U+200B'],
    ['a zero-width joiner (U+200D)', 'a\u200Db', 'U+200D'],
    ['a byte order mark (U+FEFF)', '\uFEFFkey', 'U+FEFF'],
    ['a soft hyphen (U+00AD)', 'pay\u00ADments', 'U+00AD'],
    ['a C1 control (U+0085)', 'a\u0085b', 'U+0085'],
    ['a C0 control (U+0007)', 'a\u0007b', 'U+0007'],
    ['a no-break space (U+00A0)', 'pay\u00A0ments', 'U+00A0'],
    ['a line separator (U+2028)', 'a\u2028b', 'U+2028'],
    ['a private-use character (U+E000)', 'a\uE000', 'U+E000'],
    ['a tag character (U+E0041)', 'a\u{E0041}', 'U+E0041'],
  ])('%s is refused with 610, naming the character', async (_what, label, codePoint) => {
    const before = await t.prisma.key.count();
    const response = await create(label);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json()).toMatchObject({ errorCode: 610, reason: 'res.error.invalid.key.name' });
    expect(response.json().message).toContain(codePoint);
    expect(await t.prisma.key.count()).toBe(before);
  });

  it('letters of any script, digits, symbols, emoji and inner spaces are fine', async () => {
    for (const label of ['Schlüssel-1', 'клю́ч', '鍵 2', 'key 🔑', 'a b_c.d:e@f']) {
      const response = await create(label);
      expect(response.statusCode, `${label}: ${response.body}`).toBe(201);
      expect(response.json().json.label).toBe(label.normalize('NFC'));
    }
  });

  it('the new label of a derived key is checked the same way', async () => {
    expect((await create('master-k1', EC_DERIVE)).statusCode).toBe(201);
    const response = await t.call(P, ['keyManagement', 'keyOperation'], {
      method: 'POST',
      url: '/v1/derivedKey',
      body: { label: 'master-k1/0', newLabel: 'child\u202E' },
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().errorCode).toBe(610);
  });
});

describe('labels compare in NFC', () => {
  it('a decomposed label is stored composed, and either spelling finds it', async () => {
    const created = await create(NFD);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().json.label).toBe(NFC);
    const row = await t.prisma.key.findFirstOrThrow({ where: { label: NFC } });
    expect(row.label).toBe(NFC);
    expect(await t.prisma.key.count({ where: { label: NFD } })).toBe(0);
    for (const spelling of [NFC, NFD]) {
      const found = await attributes(spelling);
      expect(found.statusCode, found.body).toBe(200);
      expect(found.json().json.uuid).toBe(row.id);
    }
  });

  it('the other spelling of an existing label is a duplicate (409), on create, import and derive', async () => {
    const duplicate = await create(NFC);
    expect(duplicate.statusCode, duplicate.body).toBe(409);
    expect(duplicate.json().errorCode).toBe(608);

    expect((await create('Ame\u0301lie')).statusCode).toBe(201);
    const twin = await create('Am\u00e9lie');
    expect(twin.statusCode).toBe(409);

    expect((await create('master-k2', EC_DERIVE)).statusCode).toBe(201);
    const derived = await t.call(P, ['keyManagement', 'keyOperation'], {
      method: 'POST',
      url: '/v1/derivedKey',
      body: { label: 'master-k2/1', newLabel: NFD },
    });
    expect(derived.statusCode, derived.body).toBe(409);
    expect(derived.json().errorCode).toBe(608);
  });

  it('a derived key made under a decomposed new label is stored and answered composed', async () => {
    expect((await create('master-k3', EC_DERIVE)).statusCode).toBe(201);
    const derived = await t.call(P, ['keyManagement', 'keyOperation'], {
      method: 'POST',
      url: '/v1/derivedKey',
      body: { label: 'master-k3/7', newLabel: 'Kind Mu\u0308nchen' },
    });
    expect(derived.statusCode, derived.body).toBe(201);
    expect(derived.json().label).toBe('Kind M\u00fcnchen');
    expect(await t.prisma.key.count({ where: { label: 'Kind M\u00fcnchen' } })).toBe(1);
  });
});
