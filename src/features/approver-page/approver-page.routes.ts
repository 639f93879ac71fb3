/**
 * `/approver`: a web page for SKA approvers (docs/approver-tools.md). Static files only, public like the
 * health routes: the page holds no secret, it calls the API with the credential the approver pastes in
 * and signs with a key that never leaves the browser. Scripts come from files, never inline, so the
 * Content-Security-Policy can forbid everything else.
 */
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

const STATIC_DIR = new URL('./static/', import.meta.url);

/** The files served, by URL; anything else under /approver/ is the usual 404. */
const FILES: Record<string, { file: string; type: string }> = {
  '/approver': { file: 'approver.html', type: 'text/html; charset=utf-8' },
  '/approver/approver.js': { file: 'approver.js', type: 'text/javascript; charset=utf-8' },
  '/approver/approver-checks.js': { file: 'approver-checks.js', type: 'text/javascript; charset=utf-8' },
  '/approver/approver.css': { file: 'approver.css', type: 'text/css; charset=utf-8' },
  '/approver/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

export const APPROVER_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': APPROVER_PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-cache',
};

export const approverPageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  for (const [url, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(new URL(file, STATIC_DIR));
    app.get(url, { config: { auth: false }, schema: { hide: true } }, async (_request, reply) =>
      reply.headers(SECURITY_HEADERS).type(type).send(body),
    );
  }
};
