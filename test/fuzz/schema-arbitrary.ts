/**
 * fast-check arbitraries from the JSON Schemas of openapi/openapi.json: values that fit a schema, values
 * that break it in one place (a missing required field, a wrong type, a value past a bound) and boundary
 * values, mixed so that most requests get past validation into the handlers while every check is probed.
 */
import fc from 'fast-check';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  $ref?: string;
}

/** Strings a handler should recognise by field name, so that generated requests reach existing keys. */
export interface KnownValues {
  keyNames: string[];
  base64: string[];
  uuids: string[];
  publicKeys: string[];
}

const BOUNDARY_STRINGS = [
  '',
  ' ',
  '\u0000',
  '../../etc/passwd',
  '%00',
  '\'; DROP TABLE "Key"; --',
  '\uD800',
  '\uDFFF',
  'a\uDC00b',
  '\uDC00\uD800',
  'fz-ec\uD800',
  '\u202Efz-ec',
  'fz-e\u0301c',
  '\u200B',
  '😀'.repeat(40),
  'A'.repeat(10_000),
  '====',
  'AAAA=AAAA',
  '-1',
  '1e309',
  'null',
  '{"$ne":null}',
];
const BOUNDARY_NUMBERS = [
  -1,
  0,
  1,
  2 ** 31,
  2 ** 31 - 1,
  -(2 ** 31),
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  1.5,
  1e308,
  -1e308,
];

function types(schema: JsonSchema): string[] {
  if (schema.type === undefined) return [];
  return Array.isArray(schema.type) ? schema.type : [schema.type];
}

function knownFor(name: string, known: KnownValues): string[] {
  const lower = name.toLowerCase();
  if (lower.endsWith('keyname') || lower === 'label' || lower === 'keytobewrapped' || lower === 'newlabel')
    return known.keyNames;
  if (lower.endsWith('id') || lower === 'requestid') return known.uuids;
  if (lower.includes('publickey')) return known.publicKeys;
  if (
    /payload|signature|wrappedkey|data|nonce|secretkey|privatekey|certificate|vector|imprint|approvaltobesigned/.test(
      lower,
    )
  )
    return known.base64;
  return [];
}

/** Values that fit `schema`; `name` is the property the value is for (to pick known values). */
export function validValue(
  schema: JsonSchema,
  known: KnownValues,
  name = '',
  depth = 0,
): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((alt) => validValue(alt, known, name, depth)));
  const [type] = types(schema);
  switch (type) {
    case 'object':
      return objectValue(schema, known, depth);
    case 'array': {
      const maxLength = Math.min(schema.maxItems ?? 4, 4);
      const minLength = Math.min(schema.minItems ?? 0, maxLength);
      return fc.array(validValue(schema.items ?? {}, known, name, depth + 1), { minLength, maxLength });
    }
    case 'string': {
      const candidates = knownFor(name, known);
      const free = fc.string({
        minLength: schema.minLength ?? 0,
        maxLength: Math.min(schema.maxLength ?? 32, 64),
      });
      return candidates.length > 0
        ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...candidates) }, free)
        : free;
    }
    case 'integer':
      return fc.integer({
        min: schema.minimum ?? -1000,
        max: Math.min(schema.maximum ?? 100_000, 2 ** 31 - 1),
      });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectValue(schema: JsonSchema, known: KnownValues, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const required = schema.required ?? [];
  if (depth > 6) return fc.constant({});
  const entries = Object.fromEntries(
    Object.entries(properties).map(([key, sub]) => [key, validValue(sub, known, key, depth + 1)]),
  );
  return fc.record(entries, { requiredKeys: required.filter((key) => key in properties) });
}

/**
 * A JSON value nested `levels` deep (objects and arrays alternating), around the service's limit or well past
 * it; thousands of levels are sent as text (api.fuzz.test.ts), since fast-check reports values recursively.
 */
export const deepValue: fc.Arbitrary<unknown> = fc.constantFrom(8, 30, 31, 32, 33, 100, 500).map((levels) => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { x: value };
  return value;
});

/** A string with an unpaired surrogate somewhere (what the JSON escape "\ud800" makes). */
const loneSurrogate: fc.Arbitrary<string> = fc
  .tuple(fc.string({ maxLength: 8 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 8 }))
  .map(([before, unit, after]) => `${before}${String.fromCharCode(unit)}${after}`);

/** A value that breaks `schema` (or a boundary value of it) somewhere. */
export function brokenValue(
  schema: JsonSchema,
  known: KnownValues,
  name = '',
  depth = 0,
): fc.Arbitrary<unknown> {
  const [type] = types(schema);
  const anything = fc.oneof(
    fc.constantFrom<unknown>(null, true, 0, -1, '', [], {}, 'x'),
    fc.constantFrom(...BOUNDARY_STRINGS),
    fc.constantFrom(...BOUNDARY_NUMBERS),
    fc.jsonValue({ maxDepth: 3 }),
    loneSurrogate,
    deepValue,
  );
  if (type === 'object' && schema.properties && depth < 6) {
    const keys = Object.keys(schema.properties);
    if (keys.length === 0) return anything;
    return fc
      .tuple(
        objectValue(schema, known, depth) as fc.Arbitrary<Record<string, unknown>>,
        fc.constantFrom(...keys),
        fc.constantFrom('drop', 'break', 'extra'),
      )
      .chain(([value, key, how]) => {
        if (how === 'drop') {
          const { [key]: _dropped, ...rest } = value;
          return fc.constant(rest);
        }
        if (how === 'extra')
          return fc.oneof(
            fc.constant({ ...value, ['__proto__x']: 1, constructor: { prototype: 1 } }),
            deepValue.map((deep) => ({ ...value, unknownField: deep })),
            loneSurrogate.map((name) => ({ ...value, [name]: 1 })),
          );
        return brokenValue(schema.properties![key]!, known, key, depth + 1).map((broken) => ({
          ...value,
          [key]: broken,
        }));
      });
  }
  if (type === 'string') {
    const tooLong = schema.maxLength !== undefined ? [fc.constant('x'.repeat(schema.maxLength + 1))] : [];
    return fc.oneof(
      anything,
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      ...tooLong,
    );
  }
  if (type === 'integer' || type === 'number') {
    const bounds = [schema.minimum, schema.maximum]
      .filter((bound): bound is number => bound !== undefined)
      .flatMap((bound) => [bound - 1, bound, bound + 1]);
    return fc.oneof(anything, fc.constantFrom(...BOUNDARY_NUMBERS, ...bounds, 0));
  }
  if (type === 'array') {
    return fc.oneof(
      anything,
      fc.array(brokenValue(schema.items ?? {}, known, name, depth + 1), { maxLength: 3 }),
      fc.constant(Array.from({ length: (schema.maxItems ?? 1000) + 1 }, () => 'a')),
    );
  }
  return anything;
}

/** Mostly valid values (they reach the handlers), often broken ones, sometimes anything at all. */
export function bodyValue(schema: JsonSchema, known: KnownValues): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 5, arbitrary: validValue(schema, known) },
    { weight: 4, arbitrary: brokenValue(schema, known) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  );
}

type Path = string[];

function leafPaths(value: unknown, prefix: Path = []): Path[] {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length === 0
      ? [prefix]
      : entries.flatMap(([key, sub]) => [
          [...prefix, key],
          ...leafPaths(sub, [...prefix, key]).filter((p) => p.length > prefix.length + 1),
        ]);
  }
  return [prefix];
}

function schemaAt(schema: JsonSchema | undefined, path: Path): JsonSchema {
  let current = schema;
  for (const key of path) {
    const object = current?.anyOf?.find((alt) => alt.properties) ?? current;
    current = object?.properties?.[key];
  }
  return current ?? {};
}

function withPath(value: unknown, path: Path, replacement: unknown, drop = false): unknown {
  if (path.length === 0) return replacement;
  const [key, ...rest] = path as [string, ...string[]];
  const object = { ...(value as Record<string, unknown>) };
  if (drop && rest.length === 0) delete object[key];
  else object[key] = withPath(object[key], rest, replacement, drop);
  return object;
}

/**
 * A request the service accepts (`seed`), as it is or changed in one place: a field dropped, replaced by a
 * value that breaks its schema, or by another value that fits it.
 */
export function mutatedSeed(seed: unknown, schema: JsonSchema, known: KnownValues): fc.Arbitrary<unknown> {
  const paths = leafPaths(seed).filter((path) => path.length > 0);
  if (paths.length === 0) return fc.constant(seed);
  return fc
    .tuple(fc.constantFrom(...paths), fc.constantFrom('keep', 'drop', 'break', 'break', 'other', 'extra'))
    .chain(([path, how]) => {
      if (how === 'keep') return fc.constant(seed);
      // an unknown field beside the one at `path`: deep, or with text that has no UTF-8 form
      if (how === 'extra')
        return fc
          .oneof(deepValue, loneSurrogate)
          .map((junk) => withPath(seed, [...path.slice(0, -1), 'unknownField'], junk));
      if (how === 'drop') return fc.constant(withPath(seed, path, undefined, true));
      const sub = schemaAt(schema, path);
      const name = path[path.length - 1] ?? '';
      const replacement = how === 'break' ? brokenValue(sub, known, name) : validValue(sub, known, name);
      return replacement.map((value) => withPath(seed, path, value));
    });
}
