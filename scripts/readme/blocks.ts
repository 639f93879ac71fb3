/**
 * The shell examples of a Markdown file, in order: every fenced ```sh or ```bash block, except a block whose
 * fence follows a `<!-- readme-test: skip -->` line (blank lines between them allowed). Other fences
 * (```console transcripts, ```ts, ```json) are never run.
 */

export const SKIP_MARKER = '<!-- readme-test: skip -->';

export interface ShellBlock {
  /** 1-based line of the first line inside the fence */
  line: number;
  /** the nearest heading above the block */
  section: string;
  lines: string[];
}

const OPENING = /^```(sh|bash)\s*$/;

export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  let section = '';
  let skipNext = false;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    if (text.startsWith('#')) section = text.replace(/^#+\s*/, '');
    if (text.trim() === SKIP_MARKER) {
      skipNext = true;
      continue;
    }
    if (text.startsWith('```')) {
      const end = closingFence(lines, i + 1);
      if (OPENING.test(text) && !skipNext) {
        blocks.push({ line: i + 2, section, lines: lines.slice(i + 1, end) });
      }
      skipNext = false;
      i = end;
      continue;
    }
    if (text.trim() !== '') skipNext = false;
  }
  return blocks;
}

function closingFence(lines: string[], from: number): number {
  for (let i = from; i < lines.length; i++) if (lines[i]!.startsWith('```')) return i;
  throw new Error(`the code block that opens at line ${from} is never closed`);
}
