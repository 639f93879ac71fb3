/**
 * Named component schemas for the OpenAPI document, so generated clients get readable types: every request
 * body and success answer of an object or array type becomes `components/schemas/<OperationId>Request` /
 * `<OperationId>Response`, and any schema with a `title` (SignedKeyAttributes, SkaPolicy, …) becomes a
 * component of that name wherever it is nested. Only the published document changes: routes validate and
 * serialise with their own schemas.
 */
type Schema = Record<string, unknown>;

interface Document {
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}
interface Operation {
  operationId?: string;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

const REF_PREFIX = '#/components/schemas/';
const isObject = (value: unknown): value is Schema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const pascal = (id: string) => id.charAt(0).toUpperCase() + id.slice(1);

/** A schema worth a name: an object or array type (not a bare string, an empty or a referenced schema). */
function isStructured(schema: Schema): boolean {
  if ('$ref' in schema) return false;
  const types = Array.isArray(schema['type']) ? schema['type'] : [schema['type']];
  return types.includes('object') || types.includes('array') || 'anyOf' in schema || 'oneOf' in schema;
}

class ComponentRegistry {
  constructor(private readonly schemas: Record<string, Schema>) {}

  /** Puts `schema` under `name` (the same name twice must be the same schema) and answers its reference. */
  add(name: string, schema: Schema): Schema {
    const existing = this.schemas[name];
    const hoisted = this.hoistNested(schema);
    if (existing && JSON.stringify(existing) !== JSON.stringify(hoisted)) {
      throw new Error(`OpenAPI: two different schemas are named ${name}`);
    }
    this.schemas[name] = hoisted;
    return { $ref: `${REF_PREFIX}${name}` };
  }

  /** A copy of `schema` whose titled sub-schemas are references to components. */
  hoistNested(schema: Schema): Schema {
    const copy: Schema = {};
    for (const [key, value] of Object.entries(schema)) copy[key] = this.visit(value, key);
    return copy;
  }

  private visit(value: unknown, key: string): unknown {
    // examples are data, not schemas
    if (key === 'examples' || key === 'example' || key === 'default' || key === 'const' || key === 'enum')
      return value;
    if (Array.isArray(value)) return value.map((item) => this.visit(item, ''));
    if (!isObject(value)) return value;
    if (key === 'properties' || key === 'patternProperties' || key === '$defs') {
      return Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, this.visit(sub, '')]));
    }
    const title = value['title'];
    if (typeof title === 'string' && /^[A-Za-z][A-Za-z0-9]*$/.test(title) && isStructured(value)) {
      return this.add(title, value);
    }
    return this.hoistNested(value);
  }
}

function named(
  registry: ComponentRegistry,
  schema: Schema | undefined,
  fallback: string,
): Schema | undefined {
  if (!schema || !isStructured(schema)) return schema;
  const title = typeof schema['title'] === 'string' ? schema['title'] : fallback;
  return registry.add(title, schema);
}

/** The @fastify/swagger `transformObject`: answers the document with named component schemas. */
export function withComponentSchemas<T>(input: T): T {
  const document = structuredClone(input) as Document;
  document.components ??= {};
  document.components.schemas ??= {};
  const registry = new ComponentRegistry(document.components.schemas);
  for (const methods of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(methods)) {
      const id = operation.operationId ? pascal(operation.operationId) : null;
      if (!id) continue;
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        media.schema = named(registry, media.schema, `${id}Request`);
      }
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const success = status.startsWith('2');
        for (const media of Object.values(response.content ?? {})) {
          if (!media.schema) continue;
          media.schema = success
            ? named(registry, media.schema, `${id}Response`)
            : registry.hoistNested(media.schema);
        }
      }
    }
  }
  document.components.schemas = Object.fromEntries(
    Object.entries(document.components.schemas).sort(([a], [b]) => a.localeCompare(b)),
  );
  return document as T;
}
