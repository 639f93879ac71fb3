import { readFile } from 'node:fs/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { renderOpenApiDocument } from '../../src/http/openapi-document.js';

describe('openapi/openapi.json', () => {
  it('is the document the route schemas generate (run `npm run openapi` when this fails)', async () => {
    const committed = await readFile(new URL('../../openapi/openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(await renderOpenApiDocument());
  });

  it('is OpenAPI 3.1 with the three security schemes and every key endpoint', async () => {
    const document = JSON.parse(await renderOpenApiDocument());
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual([
      'apiKey',
      'bearerAuth',
      'mutualTLS',
    ]);
    for (const path of [
      '/v1/key',
      '/v1/key/attributes',
      '/v1/key/import/plain',
      '/v1/key/export/plain',
      '/v1/key/changePassword',
      '/v1/key/deleteKey',
      '/v1/key/{keyName}',
      '/v1/versionInfo',
      '/v1/generateRandom/{length}',
    ]) {
      expect(document.paths, path).toHaveProperty([path]);
    }
    expect(document.paths['/v1/key'].post.responses['400']).toBeDefined();
  });

  it('documents every operation: id, summary, declared tags, security and the TSB error answers', async () => {
    const document = JSON.parse(await renderOpenApiDocument()) as OpenApiDocument;
    const declaredTags = new Map(document.tags.map((tag) => [tag.name, tag.description]));
    const operationIds = new Set<string>();
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ name: `${method} ${path}`, path, operation })),
    );
    expect(operations.length).toBeGreaterThan(60);
    for (const { name, path, operation } of operations) {
      expect(operation.operationId, name).toMatch(/^[A-Za-z]+$/);
      expect(operationIds.has(operation.operationId), `${name}: duplicate operationId`).toBe(false);
      operationIds.add(operation.operationId);
      expect(operation.summary, name).toBeTruthy();
      expect(operation.tags?.length, name).toBeGreaterThan(0);
      for (const tag of operation.tags ?? [])
        expect(declaredTags.get(tag), `${name}: tag ${tag}`).toBeTruthy();

      const isPublic = operation.security?.length === 0;
      const expected = [400, 500];
      if (isPublic) {
        expect(operation['x-tsb-roles'], name).toBeUndefined();
        expect(path.startsWith('/v1/'), `${name} must not be public`).toBe(false);
      } else {
        expect(operation.security, name).toEqual([{ bearerAuth: [] }, { apiKey: [] }, { mutualTLS: [] }]);
        expect(operation['x-tsb-roles']?.length, `${name}: x-tsb-roles`).toBeGreaterThan(0);
        expect(operation.responses['429']?.headers, name).toHaveProperty(['retry-after']);
        expected.push(401, 403, 429, 503);
      }
      if (operation.requestBody) expected.push(413, 415);
      if (path.includes('{')) expected.push(404, 414);
      for (const status of expected) {
        const schema = operation.responses[String(status)]?.content?.['application/json']?.schema;
        expect(schema, `${name} ${status}`).toEqual({ $ref: '#/components/schemas/TsbError' });
      }
    }
    expect(document.paths['/healthz']?.['get']?.security).toEqual([]);
    expect(document.paths['/v1/sign']?.['post']?.['x-tsb-roles']).toEqual(['keyOperation']);
    expect(document.paths['/v1/sign']?.['post']?.responses['404']?.description).toContain('650');
    expect(document.components.schemas['TsbError']?.required).toEqual(['errorCode', 'reason', 'message']);
  });
});

describe('openapi/openapi.json for people and generated clients', () => {
  const load = async () => JSON.parse(await renderOpenApiDocument()) as OpenApiDocument;
  const operationsOf = (document: OpenApiDocument) =>
    Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ name: `${method} ${path}`, operation })),
    );

  it('describes every operation and every answer (no "Default Response")', async () => {
    const document = await load();
    for (const { name, operation } of operationsOf(document)) {
      expect(operation.description?.length ?? 0, `${name}: description`).toBeGreaterThan(20);
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${name} ${status}`).toBeTruthy();
        expect(response.description, `${name} ${status}`).not.toBe('Default Response');
      }
    }
  });

  it('names the request and answer bodies as component schemas', async () => {
    const document = await load();
    const schemas = document.components.schemas;
    for (const name of [
      'SynchronousSignRequest',
      'SynchronousSignResponse',
      'SignedKeyAttributes',
      'RequestStatus',
      'SkaPolicy',
      'KeyAttributesInput',
      'KeyPassword',
    ]) {
      expect(schemas[name], name).toBeDefined();
    }
    expect(
      document.paths['/v1/synchronousSign']?.['post']?.requestBody?.content['application/json']?.schema,
    ).toEqual({ $ref: '#/components/schemas/SynchronousSignRequest' });
    // every reference resolves
    const references = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)];
    for (const [, name] of references) expect(schemas[name!], name).toBeDefined();
  });

  it('has examples for the main operations, and each validates against its schema', async () => {
    const document = await load();
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'openapi.json', components: document.components } as object);
    const validate = (schema: unknown, example: unknown, where: string) => {
      const reference = (schema as { $ref?: string }).$ref;
      const check = ajv.compile(reference ? { $ref: `openapi.json${reference}` } : (schema as object));
      expect(check(example), `${where}: ${ajv.errorsText(check.errors)}`).toBe(true);
    };
    let examples = 0;
    const withExamples = new Set<string>();
    for (const { name, operation } of operationsOf(document)) {
      const body = operation.requestBody?.content['application/json'];
      if (body?.example !== undefined) {
        validate(body.schema, body.example, `${name} request`);
        withExamples.add(`${operation.operationId} request`);
        examples++;
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        const media = response.content?.['application/json'];
        if (media?.example === undefined) continue;
        validate(media.schema, media.example, `${name} ${status}`);
        withExamples.add(`${operation.operationId} response`);
        examples++;
      }
    }
    expect(examples).toBeGreaterThanOrEqual(20);
    for (const id of [
      'synchronousSign',
      'verifySignature',
      'encrypt',
      'synchronousDecrypt',
      'wrap',
      'createKey',
      'sign',
      'modify',
    ]) {
      expect(withExamples.has(`${id} request`), `${id} request`).toBe(true);
      expect(withExamples.has(`${id} response`), `${id} response`).toBe(true);
    }
    for (const id of ['getKeys', 'getKeyAttributesWithKeyPassword', 'getRequestStatus'])
      expect(withExamples.has(`${id} response`), `${id} response`).toBe(true);
    for (const id of ['synchronousUnwrap', 'approveTask', 'filterSignTasks', 'deleteKeyWithPassword'])
      expect(withExamples.has(`${id} request`), `${id} request`).toBe(true);
  });

  it('a wrong example is caught by the same validation', async () => {
    const document = await load();
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'openapi.json', components: document.components } as object);
    const check = ajv.compile({ $ref: 'openapi.json#/components/schemas/SynchronousSignRequest' });
    expect(check({ signRequest: { payload: 'UGF5bG9hZA==', signatureAlgorithm: 'EDDSA' } })).toBe(false);
  });
});

interface OpenApiOperation {
  operationId: string;
  summary?: string;
  tags?: string[];
  security?: Array<Record<string, string[]>>;
  'x-tsb-roles'?: string[];
  description?: string;
  requestBody?: { content: Record<string, { schema?: unknown; example?: unknown }> };
  responses: Record<
    string,
    {
      description: string;
      headers?: object;
      content?: Record<string, { schema?: unknown; example?: unknown }>;
    }
  >;
}

interface OpenApiDocument {
  tags: Array<{ name: string; description?: string }>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, { required?: string[] }> };
}
