/**
 * Every optional field of every JSON request body accepts `null`, meaning absent: Go clients send nil slices
 * and pointers as null (go-kms-wrapping's `"policy":{"ruleUse":{"tokens":null}}`), Java clients their unset
 * fields, and the TSB (Jackson) reads both as absent. New request fields get this from `OptionalOrNull`
 * (src/lib/schema-fields.ts); this walks openapi/openapi.json (kept current by test/e2e/openapi.test.ts).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
}

const document = JSON.parse(
  await readFile(fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url)), 'utf8'),
) as {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
  components?: { schemas?: Record<string, Schema> };
};

function resolve(schema: Schema | undefined): Schema | undefined {
  let current = schema;
  for (let depth = 0; current?.$ref && depth < 10; depth++) {
    current = document.components?.schemas?.[current.$ref.split('/').pop()!];
  }
  return current;
}

function acceptsNull(given: Schema | undefined): boolean {
  const schema = resolve(given);
  if (!schema) return true;
  if (schema.type === 'null' || (Array.isArray(schema.type) && schema.type.includes('null'))) return true;
  if (schema.nullable) return true;
  const alternatives = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
  if (alternatives.length > 0) return alternatives.some(acceptsNull);
  // a schema without a type (unknown) takes anything
  return schema.type === undefined && schema.properties === undefined && schema.items === undefined;
}

/** The paths (route.field.field) of optional properties that refuse null. */
function refusingNull(given: Schema | undefined, path: string, seen = new Set<Schema>()): string[] {
  const schema = resolve(given);
  if (!schema || seen.has(schema)) return [];
  seen.add(schema);
  const found: string[] = [];
  for (const alternative of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])]) {
    found.push(...refusingNull(alternative, path, seen));
  }
  if (schema.items) found.push(...refusingNull(schema.items, `${path}[]`, seen));
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const field = `${path}.${name}`;
    if (!(schema.required ?? []).includes(name) && !acceptsNull(property)) found.push(field);
    found.push(...refusingNull(property, field, new Set(seen)));
  }
  return found;
}

describe('JSON request bodies', () => {
  it('accept null for every optional field', () => {
    const found: string[] = [];
    for (const [url, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const schema = operation.requestBody?.content?.['application/json']?.schema;
        if (schema) found.push(...refusingNull(schema, `${method.toUpperCase()} ${url}`));
      }
    }
    expect(found).toEqual([]);
  });

  it('the walk finds a field that refuses null', () => {
    const body: Schema = { properties: { a: { type: 'string' }, b: { anyOf: [{ type: 'null' }] } } };
    expect(refusingNull(body, 'X')).toEqual(['X.a']);
  });
});
