import { randomInt } from 'node:crypto';
import { type TSchema, Type } from 'typebox';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import {
  AsyncDecryptBodySchema,
  AsyncSignBodySchema,
  AsyncUnwrapBodySchema,
  BlockBodySchema,
  ModifyBodySchema,
  UnblockBodySchema,
} from '../../../src/features/approvals/requests.schema.js';
import {
  AsyncCsrBodySchema,
  AsyncSelfSignBodySchema,
  AsyncSignCertificateBodySchema,
} from '../../../src/features/certificates/certificates.schema.js';
import { compileKnownFields, knownFieldsOf } from '../../../src/http/known-fields.js';

/** The bodies of the SKA request routes (src/features/approvals/requests.routes.ts). */
const ROUTE_BODIES: Record<string, TSchema> = {
  AsyncSignBodySchema,
  AsyncDecryptBodySchema,
  AsyncUnwrapBodySchema,
  BlockBodySchema,
  UnblockBodySchema,
  ModifyBodySchema,
  AsyncCsrBodySchema,
  AsyncSelfSignBodySchema,
  AsyncSignCertificateBodySchema,
};

/** Strings tried for a string schema; the first few that the schema accepts are used. */
const STRINGS = [
  'QUJDRA==',
  'AAAA',
  'key-1',
  'SHA256_WITH_ECDSA',
  'UNSPECIFIED',
  'DER',
  'RSA',
  'AES_GCM',
  'CN=approver',
  '2026-03-29T01:30:07Z',
  'm/0/1',
  '',
  'x',
];

const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)]!;

/** A JSON value of nested objects and arrays (what a client may add where the schema does not look). */
function extraValue(depth: number): unknown {
  if (depth > 2) return pick(['text', 7, null, true]);
  return pick([
    () => ({ hidden: extraValue(depth + 1), [`deep${depth}`]: [extraValue(depth + 1)] }),
    () => [extraValue(depth + 1), 'item'],
    () => 'text',
    () => 42,
    () => null,
  ])();
}

/** A random value of the schema, with unknown fields added at every object. Not always valid: callers check. */
function generate(schema: Record<string, unknown>, depth = 0): unknown {
  if ('const' in schema) return schema['const'];
  if (Array.isArray(schema['enum'])) return pick(schema['enum']);
  if (Array.isArray(schema['anyOf'])) return generate(pick(schema['anyOf']), depth);
  switch (schema['type']) {
    case 'object': {
      const value: Record<string, unknown> = {};
      const required = new Set((schema['required'] as string[] | undefined) ?? []);
      const properties = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
      for (const [name, property] of Object.entries(properties))
        if (required.has(name) || randomInt(3) > 0) value[name] = generate(property, depth + 1);
      for (let extra = randomInt(3); extra > 0; extra--) value[`unknown${extra}`] = extraValue(depth);
      return value;
    }
    case 'array': {
      const items = schema['items'] as Record<string, unknown>;
      return Array.from({ length: randomInt(3) }, () => generate(items, depth + 1));
    }
    case 'string': {
      const accepted = STRINGS.filter((candidate) => Value.Check(schema as TSchema, candidate));
      return accepted.length > 0 ? pick(accepted.slice(0, 4)) : 'QUJDRA==';
    }
    case 'integer':
    case 'number':
      return typeof schema['minimum'] === 'number' ? schema['minimum'] : 1;
    case 'boolean':
      return randomInt(2) === 1;
    case 'null':
      return null;
    default:
      return extraValue(depth);
  }
}

describe('knownFieldsOf', () => {
  it.each(Object.keys(ROUTE_BODIES))(
    '%s is compiled, and agrees with Value.Clean on valid bodies',
    (name) => {
      const schema = ROUTE_BODIES[name]!;
      const clean = compileKnownFields(schema);
      expect(clean, 'the route body must be compiled, not left to Value.Clean').not.toBeNull();
      let compared = 0;
      let withUnknownFields = 0;
      for (let attempt = 0; attempt < 3000 && compared < 200; attempt++) {
        const body = generate(schema as unknown as Record<string, unknown>);
        if (!Value.Check(schema, body)) continue;
        const before = structuredClone(body);
        const expected = Value.Clean(schema, structuredClone(body));
        const actual = clean!(body);
        expect(actual).toEqual(expected);
        expect(body, 'the input is not changed').toEqual(before);
        if (JSON.stringify(actual) !== JSON.stringify(body)) withUnknownFields++;
        compared++;
      }
      expect(compared, 'enough valid bodies to compare').toBeGreaterThanOrEqual(100);
      expect(withUnknownFields, 'and most of them had fields to drop').toBeGreaterThan(compared / 2);
    },
  );

  it('drops unknown fields at every depth and keeps the order of the fields it keeps', () => {
    const schema = Type.Object({
      outer: Type.Union([
        Type.Object({ b: Type.String(), a: Type.Array(Type.Object({ x: Type.Number() })) }),
        Type.Null(),
      ]),
      free: Type.Optional(Type.Unknown()),
    });
    const clean = knownFieldsOf(schema);
    const body = {
      extra: 1,
      free: { anything: { goes: [1] } },
      outer: { a: [{ x: 1, y: 2 }, { x: 3 }], z: 'dropped', b: 'kept' },
    };
    const cleaned = clean(body) as Record<string, Record<string, unknown>>;
    expect(cleaned).toEqual({
      free: { anything: { goes: [1] } },
      outer: { a: [{ x: 1 }, { x: 3 }], b: 'kept' },
    });
    expect(Object.keys(cleaned)).toEqual(['free', 'outer']);
    expect(Object.keys(cleaned['outer']!)).toEqual(['a', 'b']);
    expect(clean({ outer: null })).toEqual({ outer: null });
  });

  it('leaves schemas it cannot interpret to Value.Clean', () => {
    const ambiguous = Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })]);
    const record = Type.Record(Type.String(), Type.Object({ a: Type.String() }));
    const unknownBesideObject = Type.Union([Type.Unknown(), Type.Object({ a: Type.String() })]);
    for (const schema of [ambiguous, record, unknownBesideObject]) {
      expect(compileKnownFields(schema)).toBeNull();
      const value = generate(schema as unknown as Record<string, unknown>);
      expect(knownFieldsOf(schema)(value)).toEqual(Value.Clean(schema, structuredClone(value)));
    }
  });
});
