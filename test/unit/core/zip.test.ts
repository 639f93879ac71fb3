import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createZip } from '../../../src/lib/zip.js';
import { withScratch } from '../../helpers/openssl.js';

const run = promisify(execFile);

describe('createZip', () => {
  it('writes a stored ZIP that unzip tests and extracts byte for byte', async () => {
    const entries = [
      { name: 'a.txt', data: Buffer.from('hello\n') },
      { name: 'empty', data: Buffer.alloc(0) },
      { name: 'bin.sig', data: Buffer.from([0, 1, 2, 255, 254]) },
      { name: 'ünïcode.xml', data: Buffer.from('<x/>') },
    ];
    const zip = createZip(entries, new Date('2026-11-29T10:20:30Z'));
    await withScratch(async (dir) => {
      await writeFile(path.join(dir, 'out.zip'), zip);
      const tested = await run('unzip', ['-t', 'out.zip'], { cwd: dir });
      expect(tested.stdout).toContain('No errors detected');
      const listed = await run('unzip', ['-l', 'out.zip'], { cwd: dir });
      expect(listed.stdout).toContain('2026-11-29 10:20');
      await run('unzip', ['-q', 'out.zip', '-d', 'x'], { cwd: dir });
      for (const entry of entries) {
        expect(await readFile(path.join(dir, 'x', entry.name))).toEqual(entry.data);
      }
      const python = await run(
        'python3',
        [
          '-c',
          'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(z.testzip(), z.namelist())',
          'out.zip',
        ],
        { cwd: dir },
      );
      expect(python.stdout).toContain("None ['a.txt', 'empty', 'bin.sig', 'ünïcode.xml']");
    });
  });
});
