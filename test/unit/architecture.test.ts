/**
 * The module map of docs/architecture.md, checked on the import statements of src/: `src/crypto` is
 * pure cryptography (no key store, no SKA, no workflow, no HTTP, no database, no file or network I/O),
 * `src/ska` is pure policy and approval logic on top of it, and no file of src/ reaches itself again
 * through its relative imports.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

const FASTIFY = [/^fastify/, /^@fastify\//];
/** Packages that mean a database, a queue or a web server. */
const DATABASE_QUEUE_WEB = [/^@prisma\//, /^prisma$/, /^pg$/, /^ioredis$/, /^bullmq$/, ...FASTIFY];
/** I/O modules of Node; in a pure part only the worker threads' entry files (`*.worker.ts`) may use them. */
const IO_BUILTINS = /^(node:)?(fs|fs\/promises|net|http|https|http2|tls|dgram|child_process)$/;

interface Rule {
  /** what the part may import from the rest of src/: folders, or files at the top of src/ */
  parts: readonly string[];
  packages: readonly RegExp[];
  /** no file or network I/O */
  pure: boolean;
}

/** The module map of docs/architecture.md ("Parts and what each may import"). */
const RULES: Record<string, Rule> = {
  crypto: { parts: ['errors.ts', 'lib'], packages: DATABASE_QUEUE_WEB, pure: true },
  ska: { parts: ['crypto', 'errors.ts', 'lib'], packages: DATABASE_QUEUE_WEB, pure: true },
  keystore: {
    parts: ['crypto', 'ska', 'db', 'errors.ts', 'lib', 'clock.ts', 'config.ts', 'generated'],
    packages: [/^ioredis$/, /^bullmq$/, ...FASTIFY],
    pure: false,
  },
  hsm: {
    parts: ['keystore', 'crypto', 'ska', 'errors.ts', 'lib', 'clock.ts', 'config.ts', 'generated'],
    packages: [/^ioredis$/, /^bullmq$/, ...FASTIFY],
    pure: false,
  },
  'features/approvals': {
    parts: ['hsm', 'keystore', 'ska', 'auth', 'db', 'errors.ts', 'lib', 'clock.ts', 'config.ts', 'generated'],
    packages: [],
    pure: false,
  },
};

/** Files of a feature folder that speak HTTP: its Fastify routes and plugins and the wire schemas they validate. */
const HTTP_FILE = /\.(routes|plugin|schema)\.ts$/;

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

/** The part of src/ a file belongs to: its top-level folder (a feature folder for src/features), or the file itself. */
const partOf = (file: string) => {
  const [top = '', feature] = path.relative(SRC, file).split(path.sep);
  return top === 'features' && feature && !feature.endsWith('.ts') ? `features/${feature}` : top;
};

function forbiddenImports(part: string): string[] {
  const rule = RULES[part]!;
  const problems: string[] = [];
  for (const file of sourceFiles(path.join(SRC, part)).filter((file) => !HTTP_FILE.test(file))) {
    for (const specifier of specifiers(file)) {
      const target = resolveRelative(file, specifier);
      const where = `${display(file)} imports '${specifier}'`;
      if (target) {
        const to = partOf(target);
        if (to !== part && !rule.parts.includes(to))
          problems.push(`${where}: src/${part} may not import src/${to}`);
      } else if (rule.packages.some((pattern) => pattern.test(specifier))) {
        problems.push(`${where}: src/${part} may not use this package`);
      } else if (rule.pure && IO_BUILTINS.test(specifier) && !file.endsWith('.worker.ts')) {
        problems.push(`${where}: no file or network I/O in src/${part}`);
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

/** Files importing the Prisma client as a value (a `Prisma` namespace or a client class), not only its types. */
function prismaValueImporters(dir: string): string[] {
  const statement = /^\s*import\s+(type\s+)?([^;]*?)\s+from\s+['"]([^'"]+)['"]/gms;
  return sourceFiles(dir).filter((file) =>
    [...readFileSync(file, 'utf8').matchAll(statement)].some(([, typeOnly, clause, specifier]) => {
      if (typeOnly || !/generated\/prisma\//.test(specifier ?? '')) return false;
      const names = /^\{([^}]*)\}$/s.exec(clause!.trim())?.[1];
      return (
        names === undefined || names.split(',').some((name) => name.trim() && !/^type\s/.test(name.trim()))
      );
    }),
  );
}

/** A call on the Prisma client or a transaction client: `prisma.key.findMany(`, `tx.$executeRaw` … */
const DATABASE_CALL = /\b(prisma|tx)\s*\.\s*(\$\w+|\w+\s*\.\s*\w+)\s*[(`]/;

/** Files that use the Prisma client: import it as a value or call it. */
function prismaUsers(dir: string): string[] {
  const callers = sourceFiles(dir).filter((file) => DATABASE_CALL.test(readFileSync(file, 'utf8')));
  return [...new Set([...prismaValueImporters(dir), ...callers])].sort();
}

/** Prisma writes of partition or key rows: those rows are cached, so only the HSM (which announces) may write them. */
const CACHED_ROW_WRITE =
  /\.(partition|key)\.(create|createMany|update|updateMany|upsert|delete|deleteMany)\(/;

describe('architecture', () => {
  it('src/crypto has the pure cryptography and imports only src/errors.ts and src/lib', () => {
    expect(sourceFiles(path.join(SRC, 'crypto')).length).toBeGreaterThan(40);
    expect(forbiddenImports('crypto')).toEqual([]);
  });

  it.each(['ska', 'keystore', 'hsm', 'features/approvals'])(
    'src/%s imports only what the module map allows',
    (part) => {
      expect(forbiddenImports(part)).toEqual([]);
    },
  );

  it('in a feature folder only the routes and plugins speak HTTP; services, repositories and engines do not', () => {
    const features = path.join(SRC, 'features');
    expect(readdirSync(features).length).toBeGreaterThan(8);
    const problems = sourceFiles(features)
      .filter((file) => !HTTP_FILE.test(file))
      .flatMap((file) =>
        specifiers(file)
          .filter((specifier) => {
            const target = resolveRelative(file, specifier);
            if (!target) return FASTIFY.some((pattern) => pattern.test(specifier));
            return partOf(target) === 'http' || partOf(target) === 'app.ts' || HTTP_FILE.test(target);
          })
          .map((specifier) => `${display(file)} imports '${specifier}'`),
      );
    expect(problems).toEqual([]);
  });

  it('nothing below the features imports them: the HSM core, SKA and crypto know no feature', () => {
    const below = ['crypto', 'ska', 'keystore', 'hsm', 'auth', 'lib', 'db'];
    const problems = below.flatMap((part) =>
      sourceFiles(path.join(SRC, part)).flatMap((file) =>
        specifiers(file)
          .map((specifier) => resolveRelative(file, specifier))
          .filter((target): target is string => target !== null && partOf(target).startsWith('features'))
          .map((target) => `${display(file)} imports ${display(target)}`),
      ),
    );
    expect(problems).toEqual([]);
  });

  it('in src/keystore/keys only the key repository uses the Prisma client', () => {
    const keys = path.join(SRC, 'keystore', 'keys');
    expect(sourceFiles(keys).length).toBeGreaterThan(5);
    expect(prismaValueImporters(keys).map(display)).toEqual(['keystore/keys/key.repository.ts']);
    expect(prismaUsers(keys).map(display)).toEqual(['keystore/keys/key.repository.ts']);
  });

  it('in src/keystore/partitions only the partition repository uses the Prisma client', () => {
    const partitions = path.join(SRC, 'keystore', 'partitions');
    expect(sourceFiles(partitions).length).toBeGreaterThan(3);
    expect(prismaUsers(partitions).map(display)).toEqual(['keystore/partitions/partition.repository.ts']);
  });

  it('only src/keystore writes partition and key rows through Prisma (it drops their cached copies)', () => {
    const writers = sourceFiles(SRC)
      .filter((file) => partOf(file) !== 'keystore' && CACHED_ROW_WRITE.test(readFileSync(file, 'utf8')))
      .map(display);
    expect(writers).toEqual([]);
  });

  it('no index.ts under src/: each import names the file that holds what it imports', () => {
    const indexFiles = sourceFiles(SRC).filter((file) => path.basename(file) === 'index.ts');
    expect(indexFiles.map(display)).toEqual([]);
  });

  it('src/ has no import circles', () => {
    expect(importCircles().map((circle) => circle.join(' → '))).toEqual([]);
  });
});
