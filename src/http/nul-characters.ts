/**
 * PostgreSQL stores no NUL character in text or jsonb, so a NUL that reached a query would fail it with a 500.
 * No TSB field has a use for one: the JSON body parser and the path and query parameters refuse it up front.
 */
import type { FastifyInstance } from 'fastify';
import { TsbError } from '../errors.js';

const NUL_MESSAGE = 'strings must not contain the NUL character (\\u0000)';

function containsNul(values: unknown): boolean {
  if (!values || typeof values !== 'object') return false;
  return Object.values(values).some((value) => typeof value === 'string' && value.includes('\u0000'));
}

export function refuseNulCharacters(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // a raw NUL is already invalid JSON; the escape is the only way one gets in
    if ((body as string).includes('\\u0000')) {
      done(new TsbError('INPUT_VALIDATION_FAILED', `body: ${NUL_MESSAGE}`), undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
  app.addHook('preValidation', async (request) => {
    if (containsNul(request.params) || containsNul(request.query)) {
      throw new TsbError('INPUT_VALIDATION_FAILED', `URL parameters: ${NUL_MESSAGE}`);
    }
  });
}
