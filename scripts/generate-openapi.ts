/**
 * Writes openapi/openapi.json from the route schemas. `npm run openapi` after changing a route;
 * test/e2e/openapi.test.ts fails when the committed document is stale.
 */
import { writeFileSync } from 'node:fs';
import { renderOpenApiDocument } from '../src/http/openapi-document.js';

const target = new URL('../openapi/openapi.json', import.meta.url);
writeFileSync(target, await renderOpenApiDocument());
console.log(`wrote ${target.pathname}`);
