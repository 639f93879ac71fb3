/**
 * `tsb`: the operator's command line for partitions, tokens, API keys and client certificates.
 * It reads the same environment as the service (DATABASE_URL, TSB_DATA_DIR, TSB_MASTER_KEY,
 * JWT_*), so what it creates is what the service sees. Run through bin/tsb.js. This file dispatches
 * and prints usage; each command group has its own `*-commands.ts`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { UnknownRoleError } from '../auth/roles.js';
import { ConfigError, loadConfig } from '../config.js';
import { createPrismaClient } from '../db/prisma.js';
import { TsbError } from '../errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { PROJECT_ROOT } from '../lib/project-root.js';
import {
  masterKeyAvailable,
  openProcessMasterKey,
  prepareDatabase,
  prepareDevelopmentJwtKeys,
  type StartupLog,
} from '../startup.js';
import { API_KEY_COMMANDS } from './apikey-commands.js';
import { APPROVER_COMMANDS } from './approver-commands.js';
import { AUDIT_COMMANDS } from './audit-commands.js';
import { CLIENT_CERTIFICATE_COMMANDS } from './client-certificate-commands.js';
import { CliError, type CliIo, type Command, type ParseOptions, UsageError, type Values } from './command.js';
import { PARTITION_COMMANDS } from './partition-commands.js';
import { SECURITY_OFFICER_COMMANDS } from './security-officer-commands.js';
import { TOKEN_COMMANDS } from './token-commands.js';

export type { CliIo } from './command.js';

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
  TSB_DATA_DIR           data folder with the development keys (default: data in the OpenTSB folder;
                         a relative path is taken from the OpenTSB folder, not the current directory)
  TSB_MASTER_KEY[_FILE]  32-byte base64 master key; must be the one the database was first used with
  JWT_PRIVATE_KEY_FILE   PEM key tokens are signed with (token issue)
  JWT_ISSUER, JWT_AUDIENCE
  TSB_RUN_MIGRATIONS     "false" to skip applying database migrations first

Exit codes: 0 done, 1 the command failed, 2 wrong command line. 'tsb --version' prints the version.
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

/** Exit codes: 0 done, 1 the command failed, 2 the command line was wrong (as vault and most CLIs do). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const HELP = new Set(['--help', '-h', 'help']);
const VERSION = new Set(['--version', '-V', 'version']);

/** The version of this OpenTSB (package.json), read only when asked for. */
function version(): string {
  const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    version?: string;
  };
  return manifest.version ?? 'unknown';
}

/** node:util parseArgs' messages, in the words of this CLI. */
function argumentProblem(error: unknown): string {
  const { code, message } = error as { code?: string; message: string };
  const option = /'(-[^']*)'/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return option && /argument missing/.test(message)
        ? `option ${option} needs a value`
        : option
          ? `option ${option} takes no value`
          : message;
    default:
      return message;
  }
}

/** Runs the CLI; returns the process exit code (EXIT_OK, EXIT_FAILURE or EXIT_USAGE). */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [group, action, ...rest] = argv;
  if (group === undefined) {
    io.stderr(mainHelp());
    return EXIT_USAGE;
  }
  if (HELP.has(group)) {
    io.stdout(mainHelp());
    return EXIT_OK;
  }
  if (VERSION.has(group)) {
    io.stdout(`tsb (OpenTSB) ${version()}\n`);
    return EXIT_OK;
  }
  const groups = new Set(COMMANDS.map((c) => c.name.split(' ')[0]));
  if (!groups.has(group)) {
    io.stderr(
      group.startsWith('-')
        ? `tsb: unknown option ${group}\nRun 'tsb --help' for the commands.\n`
        : `tsb: unknown command "${group}"\nRun 'tsb --help' for the commands.\n`,
    );
    return EXIT_USAGE;
  }
  if (action === undefined || HELP.has(action)) {
    if (action === undefined) {
      io.stderr(groupHelp(group));
      return EXIT_USAGE;
    }
    io.stdout(groupHelp(group));
    return EXIT_OK;
  }
  const command = COMMANDS.find((c) => c.name === `${group} ${action}`);
  if (!command) {
    io.stderr(`tsb: unknown command "${group} ${action}"\n\n${groupHelp(group)}`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(commandHelp(command));
    return EXIT_OK;
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
      throw new UsageError(argumentProblem(error), command.name);
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
    const open = async <T>(
      needsMasterKey: boolean,
      fn: (prisma: PrismaClient, masterKey: Buffer | null) => Promise<T>,
    ): Promise<T> => {
      const notes = startupNotes(io);
      await prepareDatabase(config, notes);
      const prisma = createPrismaClient(config.databaseUrl);
      try {
        await prepareDevelopmentJwtKeys(config, prisma, notes, command.usesTokenKeys === true);
        const masterKey =
          needsMasterKey || masterKeyAvailable(config)
            ? await openProcessMasterKey(config, prisma, notes)
            : null;
        return await fn(prisma, masterKey);
      } finally {
        await prisma.$disconnect().catch(() => {});
      }
    };
    await command.run({
      values: parsed.values,
      positionals: parsed.positionals,
      io,
      config,
      withDatabase: (fn) => open(false, (prisma) => fn(prisma)),
      withMasterKey: (fn) => open(true, (prisma, masterKey) => fn(prisma, masterKey!)),
    });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(
        `tsb ${error.command}: ${error.message}\nUsage: ${command.usage}\nRun 'tsb ${error.command} --help' for more.\n`,
      );
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      io.stderr(`tsb: ${error.message}\n`);
    } else if (error instanceof TsbError || error instanceof CliError || error instanceof UnknownRoleError) {
      io.stderr(`tsb ${command.name}: ${error.message}\n`);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      io.stderr(`tsb ${command.name}: ${message}\n`);
      if (io.env['TSB_DEBUG'] && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    }
    return EXIT_FAILURE;
  }
}

/** Start-up notes of a command on stderr (stdout stays the command's output): warnings, databases created. */
function startupNotes(io: CliIo): StartupLog {
  const line = (prefix: string, fields: object, message: string) => {
    const details = Object.entries(fields)
      .map(([name, value]) => `${name}=${Array.isArray(value) ? value.join(',') : String(value)}`)
      .join(' ');
    io.stderr(`${prefix}${message}${details ? ` (${details})` : ''}\n`);
  };
  return {
    info: (fields, message) => line('tsb: ', fields, message),
    warn: (fields, message) => line('warning: ', fields, message),
  };
}
