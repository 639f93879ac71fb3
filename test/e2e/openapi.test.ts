import { readFile } from 'node:fs/promises';
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
});
