import { main } from '../../src/cli/tsb.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tsb` in this process (src/cli/tsb.ts main) with the given environment, capturing its output. */
export async function runTsb(env: Record<string, string>, ...args: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { TSB_RUN_MIGRATIONS: 'false', ...env },
  });
  return { code, stdout, stderr };
}
