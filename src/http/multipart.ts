/**
 * `multipart/form-data` (RFC 7578) bodies, read whole (Fastify's `bodyLimit` bounds them, 413 above it)
 * into their named parts. Only the TSB's file routes take such bodies (`/v1/fileEncrypt`: a JSON part
 * and a file part), so a small strict reader does: every malformed body is a TsbError 600, never another
 * exception. Registered per route plugin with `acceptMultipart`.
 */
import type { FastifyInstance } from 'fastify';
import { TsbError } from '../errors.js';

export interface MultipartPart {
  name: string;
  filename: string | null;
  contentType: string | null;
  data: Buffer;
}

/** The parsed body a multipart route receives: its parts by name. */
export type MultipartBody = ReadonlyMap<string, MultipartPart>;

const MAX_PARTS = 16;
const MAX_HEADER_BYTES = 8192;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

const invalid = (message: string) => new TsbError('INPUT_VALIDATION_FAILED', `multipart body: ${message}`);

function boundaryOf(contentType: string): string {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw invalid('the Content-Type has no boundary');
  return boundary;
}

/** A header parameter such as `name="file"` of a Content-Disposition value. */
function parameter(value: string, name: string): string | null {
  const match = new RegExp(`;\\s*${name}="([^"]*)"|;\\s*${name}=([^\\s;"]+)`, 'i').exec(value);
  return match ? (match[1] ?? match[2] ?? null) : null;
}

function readPart(head: string, data: Buffer): MultipartPart {
  let disposition: string | null = null;
  let contentType: string | null = null;
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw invalid('a part header line has no name');
    const header = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (header === 'content-disposition') disposition = value;
    else if (header === 'content-type') contentType = value;
  }
  if (!disposition || !/^form-data\b/i.test(disposition)) throw invalid('a part is not form-data');
  const name = parameter(disposition, 'name');
  if (!name) throw invalid('a part has no name');
  return { name, filename: parameter(disposition, 'filename'), contentType, data };
}

/** The named parts of a multipart/form-data body; duplicate names, more than 16 parts or bad framing are 600. */
export function parseMultipart(body: Buffer, contentType: string): MultipartBody {
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`);
  const separator = Buffer.concat([CRLF, delimiter]);
  const parts = new Map<string, MultipartPart>();
  const first = body.indexOf(delimiter);
  // a preamble may come first; the boundary then starts a line of its own
  if (first < 0 || (first > 0 && !body.subarray(first - 2, first).equals(CRLF))) {
    throw invalid('no opening boundary');
  }
  let at = first + delimiter.length;
  for (;;) {
    if (body.subarray(at, at + 2).toString('latin1') === '--') return parts;
    if (!body.subarray(at, at + 2).equals(CRLF)) throw invalid('a boundary is not followed by a line end');
    const headEnd = body.indexOf(HEADER_END, at + 2);
    if (headEnd < 0 || headEnd - at > MAX_HEADER_BYTES) throw invalid('a part has no end of its headers');
    const dataStart = headEnd + HEADER_END.length;
    const dataEnd = body.indexOf(separator, dataStart);
    if (dataEnd < 0) throw invalid('the closing boundary is missing');
    const part = readPart(body.subarray(at + 2, headEnd).toString('utf8'), body.subarray(dataStart, dataEnd));
    if (parts.has(part.name)) throw invalid(`the part "${part.name}" is given twice`);
    if (parts.size >= MAX_PARTS) throw invalid(`more than ${MAX_PARTS} parts`);
    parts.set(part.name, part);
    at = dataEnd + separator.length;
  }
}

/** Lets the routes of this plugin take multipart/form-data bodies (as a MultipartBody). */
export function acceptMultipart(app: FastifyInstance): void {
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseMultipart(body as Buffer, String(request.headers['content-type'] ?? '')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
