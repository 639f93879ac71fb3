import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SKIP_MARKER, shellBlocks } from '../../scripts/readme/blocks.js';

describe('README shell blocks (scripts/readme/blocks.ts)', () => {
  it('takes sh and bash fences in order, with their heading and first line, and leaves other fences', () => {
    const markdown = [
      '# Title',
      '```sh',
      'echo one',
      '```',
      '## Second',
      '```console',
      '$ echo not run',
      '```',
      '```ts',
      "console.log('not run')",
      '```',
      '```bash',
      'echo two',
      'echo three',
      '```',
    ].join('\n');
    expect(shellBlocks(markdown)).toEqual([
      { line: 3, section: 'Title', lines: ['echo one'] },
      { line: 13, section: 'Second', lines: ['echo two', 'echo three'] },
    ]);
  });

  it('skips the block right after the marker, even across blank lines, and only that one', () => {
    const markdown = [SKIP_MARKER, '', '```sh', 'npm start', '```', '```sh', 'echo runs', '```'].join('\n');
    expect(shellBlocks(markdown).map((block) => block.lines)).toEqual([['echo runs']]);
  });

  it('a marker followed by prose skips nothing', () => {
    const markdown = [SKIP_MARKER, 'Some text.', '```sh', 'echo runs', '```'].join('\n');
    expect(shellBlocks(markdown)).toHaveLength(1);
  });

  it('a heading-like line inside a block is not a heading', () => {
    const markdown = ['# Real', '```sh', '# a comment', '```', '```sh', 'echo', '```'].join('\n');
    expect(shellBlocks(markdown).map((block) => block.section)).toEqual(['Real', 'Real']);
  });

  it('refuses a block that is never closed', () => {
    expect(() => shellBlocks('```sh\necho')).toThrow(/never closed/);
  });

  it("the README's runnable blocks never install, start the service or touch docker", () => {
    const runnable = shellBlocks(readFileSync(new URL('../../README.md', import.meta.url), 'utf8'))
      .flatMap((block) => block.lines)
      .map((line) => line.replace(/(^|\s)#.*$/, ''))
      .join('\n');
    expect(runnable).not.toMatch(/\bnpm (ci|install|start)\b|npm run worker|docker/);
    expect(runnable).not.toMatch(/^\s*cd\s/m);
  });
});
