/**
 * What every JSON body and URL parameter must be before a route sees it (docs/input-limits.md):
 * - nested at most MAX_JSON_DEPTH levels: no TSB body needs more than about ten, and deeper values only
 *   cost stack (a recursive JSON.stringify of a 4,000-level field overflowed it);
 * - text PostgreSQL can store and every part of the service reads the same way: no NUL character (text and
 *   jsonb cannot hold one) and no unpaired UTF-16 surrogate (a JSON escape such as "\ud800" makes one; it
 *   has no UTF-8 form, so the database driver either fails or stores U+FFFD, and two labels became one).
 * The body limit itself is Fastify's `bodyLimit` (413).
 */
import type { FastifyInstance } from 'fastify';
import { TsbError } from '../errors.js';
import { takesNoBody } from './empty-body.js';

export const MAX_JSON_DEPTH = 32;

/** a NUL, or a surrogate that is not half of a pair (with the u flag a pair is one code point) */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is refused
const UNSTORABLE = /[\u0000\uD800-\uDFFF]/u;

/** True when `text` (JSON) opens more than `limit` objects or arrays inside each other. */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c)
        i++; // a backslash escapes the next character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x7b || char === 0x5b) {
      if (++depth > limit) return true;
    } else if (char === 0x7d || char === 0x5d) {
      depth--;
    }
  }
  return false;
}

function describe(text: string): string {
  const found = UNSTORABLE.exec(text)![0];
  return found === '\u0000'
    ? 'the NUL character (\\u0000)'
    : `an unpaired surrogate (\\u${found.charCodeAt(0).toString(16)})`;
}

/** The path of the first string (value or property name) that cannot be stored, and what is wrong with it. */
export function findUnstorable(value: unknown, path = ''): string | null {
  if (typeof value === 'string')
    return UNSTORABLE.test(value) ? `${path || 'value'}: ${describe(value)}` : null;
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorable(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  for (const [name, item] of Object.entries(value)) {
    const field = path ? `${path}.${name}` : name;
    if (UNSTORABLE.test(name)) return `a property name in ${path || 'the body'}: ${describe(name)}`;
    const found = findUnstorable(item, field);
    if (found) return found;
  }
  return null;
}

export function guardInput(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // an empty chunked body on a route that takes none (see empty-body.ts for the other cases)
    if (body === '' && takesNoBody(request)) {
      done(null, undefined);
      return;
    }
    if (nestsDeeperThan(body as string, MAX_JSON_DEPTH)) {
      done(
        new TsbError(
          'INPUT_VALIDATION_FAILED',
          `the request body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels`,
        ),
        undefined,
      );
      return;
    }
    parseJson(request, body as string, (error, parsed) => {
      const unstorable = error ? null : findUnstorable(parsed);
      if (unstorable) {
        done(new TsbError('INPUT_VALIDATION_FAILED', `body ${unstorable}`), undefined);
        return;
      }
      done(error, parsed);
    });
  });
  app.addHook('preValidation', async (request) => {
    const unstorable = findUnstorable(request.params) ?? findUnstorable(request.query);
    if (unstorable) throw new TsbError('INPUT_VALIDATION_FAILED', `URL parameter ${unstorable}`);
  });
}
