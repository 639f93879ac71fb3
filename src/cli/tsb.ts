/**
 * `tsb`: the operator's command line for partitions, tokens, API keys and client certificates.
 * It reads the same environment as the service (DATABASE_URL, TSB_DATA_DIR, TSB_MASTER_KEY,
 * JWT_*), so what it creates is what the service sees. Run through bin/tsb.js. This file dispatches
 * and prints usage; each command group has its own `*-commands.ts`.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UnknownRoleError } from '../auth/roles.js';
import { ConfigError, loadConfig } from '../config.js';
import { deployMigrations, ensureDatabase } from '../db/migrations.js';
import { createPrismaClient } from '../db/prisma.js';
import { TsbError } from '../errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { API_KEY_COMMANDS } from './apikey-commands.js';
import { APPROVER_COMMANDS } from './approver-commands.js';
import { AUDIT_COMMANDS } from './audit-commands.js';
import { CLIENT_CERTIFICATE_COMMANDS } from './client-certificate-commands.js';
import { CliError, type CliIo, type Command, type ParseOptions, UsageError, type Values } from './command.js';
import { PARTITION_COMMANDS } from './partition-commands.js';
import { SECURITY_OFFICER_COMMANDS } from './security-officer-commands.js';
import { TOKEN_COMMANDS } from './token-commands.js';

export type { CliIo } from './command.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

const COMMANDS: Command[] = [
  ...PARTITION_COMMANDS,
  ...TOKEN_COMMANDS,
  ...API_KEY_COMMANDS,
  ...CLIENT_CERTIFICATE_COMMANDS,
  ...SECURITY_OFFICER_COMMANDS,
  ...AUDIT_COMMANDS,
  ...APPROVER_COMMANDS,
];

const ENVIRONMENT_HELP = `Environment (the same as the service):
  DATABASE_URL           PostgreSQL URL (default postgresql://postgres@127.0.0.1:5432/opentsb)
  TSB_DATA_DIR           data folder with the development keys (default ./data)
  TSB_MASTER_KEY[_FILE]  32-byte base64 master key (partition create)
  JWT_PRIVATE_KEY_FILE   PEM key tokens are signed with (token issue)
  JWT_ISSUER, JWT_AUDIENCE
  TSB_RUN_MIGRATIONS     "false" to skip applying database migrations first
`;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return (
    'Usage: tsb <command> [options]\n\nCommands:\n' +
    COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n') +
    "\n\nRun 'tsb <command> --help' for a command's options.\n\n" +
    ENVIRONMENT_HELP
  );
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  return `Usage:\n${commands.map((c) => `  ${c.usage}\n      ${c.summary}`).join('\n')}\n`;
}

function commandHelp(command: Command): string {
  const options = Object.entries(command.options).map(([name, option]) => {
    const label = option.type === 'string' ? `--${name} VALUE` : `--${name}`;
    return `  ${label.padEnd(22)}  ${option.description}`;
  });
  return (
    `Usage: ${command.usage}\n\n${command.summary}\n` +
    (command.details ? `\n${command.details}\n` : '') +
    (options.length > 0 ? `\nOptions:\n${options.join('\n')}\n` : '') +
    '  --help                  show this help\n'
  );
}

/** Runs the CLI; returns the process exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [group, action, ...rest] = argv;
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    io.stdout(mainHelp());
    return 0;
  }
  const groups = new Set(COMMANDS.map((c) => c.name.split(' ')[0]));
  if (!groups.has(group)) {
    io.stderr(`tsb: unknown command "${group}"\n\n${mainHelp()}`);
    return 1;
  }
  if (action === undefined || action === '--help' || action === '-h' || action === 'help') {
    io.stdout(groupHelp(group));
    return action === undefined ? 1 : 0;
  }
  const command = COMMANDS.find((c) => c.name === `${group} ${action}`);
  if (!command) {
    io.stderr(`tsb: unknown command "${group} ${action}"\n\n${groupHelp(group)}`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(command));
    return 0;
  }

  try {
    let parsed: { values: Values; positionals: string[] };
    try {
      const options: ParseOptions = Object.fromEntries(
        Object.entries(command.options).map(([name, { description: _description, ...option }]) => [
          name,
          option,
        ]),
      );
      parsed = parseArgs({ args: [...rest], options, allowPositionals: true, strict: true }) as typeof parsed;
    } catch (error) {
      throw new UsageError((error as Error).message, command.name);
    }
    if (parsed.positionals.length !== command.positionals.length) {
      throw new UsageError(
        command.positionals.length === 0
          ? `unexpected argument "${parsed.positionals[0]}"`
          : `expected ${command.positionals.join(' ')}`,
        command.name,
      );
    }
    const config = loadConfig(io.env);
    const withDatabase = async <T>(fn: (prisma: PrismaClient) => Promise<T>): Promise<T> => {
      if (config.runMigrations) {
        await ensureDatabase(config.databaseUrl);
        await deployMigrations(config.databaseUrl, MIGRATIONS_DIR);
      }
      const prisma = createPrismaClient(config.databaseUrl);
      try {
        return await fn(prisma);
      } finally {
        await prisma.$disconnect().catch(() => {});
      }
    };
    await command.run({ values: parsed.values, positionals: parsed.positionals, io, config, withDatabase });
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(
        `tsb ${error.command}: ${error.message}\nUsage: ${command.usage}\nRun 'tsb ${error.command} --help' for more.\n`,
      );
    } else if (error instanceof ConfigError) {
      io.stderr(`tsb: ${error.message}\n`);
    } else if (error instanceof TsbError || error instanceof CliError || error instanceof UnknownRoleError) {
      io.stderr(`tsb ${command.name}: ${error.message}\n`);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      io.stderr(`tsb ${command.name}: ${message}\n`);
      if (io.env['TSB_DEBUG'] && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    }
    return 1;
  }
}
