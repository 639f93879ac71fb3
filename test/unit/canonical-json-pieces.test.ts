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
