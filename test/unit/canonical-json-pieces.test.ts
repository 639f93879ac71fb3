import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonPieces } from '../../src/lib/canonical-json.js';

const join = (value: Record<string, unknown>) => [...canonicalJsonPieces(value)].join('');

describe('canonicalJsonPieces', () => {
  it('joins to canonicalJson: a backup-shaped object, integer-like and escaped names, empty arrays, nulls', () => {
    const values: Record<string, unknown>[] = [
      {},
      {
        version: 2,
        format: 'f',
        keys: [{ b: 1, a: [3, { z: null, y: 'é"\\' }] }, {}],
        officers: [],
        mac: 'x',
      },
      { '10': 'ten', '9': 'nine', b: [null, 1.5, 'two', [1]], a: { '2': 1, '1': 2, x: {} }, 'q"\n': true },
      { undefinedMember: undefined, keys: [], partition: null },
    ];
    for (const value of values) expect(join(value)).toBe(canonicalJson(value));
  });

  it('keeps a member named __proto__, and refuses numbers JSON cannot write, so different texts never meet', () => {
    const withProto = JSON.parse('{"b":1,"__proto__":{"x":1},"a":[{"__proto__":null}]}');
    expect(canonicalJson(withProto)).toBe('{"__proto__":{"x":1},"a":[{"__proto__":null}],"b":1}');
    expect(join(withProto)).toBe(canonicalJson(withProto));
    expect(canonicalJson(withProto)).not.toBe(canonicalJson({ b: 1, a: [{}] }));
    for (const text of ['{"a":1e999}', '{"a":[-1e999]}', '{"keys":[{"c":1e400}]}']) {
      const parsed = JSON.parse(text);
      expect(() => canonicalJson(parsed)).toThrow(/no canonical form/);
      expect(() => join(parsed)).toThrow(/no canonical form/);
    }
  });

  it('yields a piece per array element', () => {
    expect([...canonicalJsonPieces({ keys: [{ b: 2, a: 1 }, 3] })]).toEqual([
      '{',
      '"keys":',
      '[',
      '{"a":1,"b":2}',
      ',3',
      ']',
      '}',
    ]);
  });
});
