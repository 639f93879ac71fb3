/**
 * The module map of docs/architecture.md, checked on the import statements of src/: `src/crypto` is
 * pure cryptography (no key store, no SKA, no workflow, no HTTP, no database, no file or network I/O),
 * and no file of src/ reaches itself again through its relative imports.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const CRYPTO = path.join(SRC, 'crypto');

/** Folders of src/ that src/crypto may not import from. */
const FORBIDDEN_FOLDERS = [
  'hsm',
  'ska',
  'workflow',
  'modules',
  'http',
  'generated',
  'officers',
  'audit',
  'db',
];
/** Where an import leaving src/crypto may land: the domain error and the small shared helpers. */
const ALLOWED_OUTSIDE = [path.join(SRC, 'errors.ts'), path.join(SRC, 'lib') + path.sep];
/** Packages that mean a database, a queue, a web server or I/O. */
const FORBIDDEN_PACKAGES = [
  /^@prisma\//,
  /^prisma$/,
  /^pg$/,
  /^ioredis$/,
  /^bullmq$/,
  /^fastify/,
  /^@fastify\//,
];
/** I/O modules of Node; only the worker threads' entry files (`*.worker.ts`) may use them. */
const IO_BUILTINS = /^(node:)?(fs|fs\/promises|net|http|https|http2|tls|dgram|child_process)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every module specifier of a file's import and export statements, static and dynamic. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]/gms,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1] as string));
}

/** The source file a relative specifier names (`./x.js` is `./x.ts` in the sources), or null. */
function resolveRelative(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const target = path.resolve(path.dirname(from), specifier);
  const ts = target.replace(/\.js$/, '.ts');
  return existsSync(ts) ? ts : target;
}

const display = (file: string) => path.relative(SRC, file);

function forbiddenCryptoImports(): string[] {
  const problems: string[] = [];
  for (const file of sourceFiles(CRYPTO)) {
    for (const specifier of specifiers(file)) {
      const target = resolveRelative(file, specifier);
      const where = `${display(file)} imports '${specifier}'`;
      if (target) {
        if (target.startsWith(CRYPTO + path.sep)) continue;
        const folder = path.relative(SRC, target).split(path.sep)[0];
        if (FORBIDDEN_FOLDERS.includes(folder ?? '')) problems.push(`${where}: src/${folder} is off limits`);
        else if (!ALLOWED_OUTSIDE.some((allowed) => target === allowed || target.startsWith(allowed)))
          problems.push(`${where}: only src/errors.ts and src/lib/ may be imported from outside src/crypto`);
      } else if (FORBIDDEN_PACKAGES.some((pattern) => pattern.test(specifier))) {
        problems.push(`${where}: no database, queue or web server in src/crypto`);
      } else if (IO_BUILTINS.test(specifier) && !file.endsWith('.worker.ts')) {
        problems.push(`${where}: no file or network I/O in src/crypto`);
      }
    }
  }
  return problems;
}

/** The import circles of src/ (one path per circle found, depth first). */
function importCircles(): string[][] {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const targets = specifiers(file)
      .map((specifier) => resolveRelative(file, specifier))
      .filter((target): target is string => target?.endsWith('.ts') === true);
    graph.set(file, [...new Set(targets)]);
  }
  const circles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') circles.push([...stack.slice(stack.indexOf(next)), next].map(display));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return circles;
}

describe('architecture', () => {
  it('src/crypto imports no key store, SKA, workflow, HTTP, database or I/O', () => {
    expect(sourceFiles(CRYPTO).length).toBeGreaterThan(40);
    expect(forbiddenCryptoImports()).toEqual([]);
  });

  it('src/ has no import circles', () => {
    expect(importCircles().map((circle) => circle.join(' → '))).toEqual([]);
  });
});
