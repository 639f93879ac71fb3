/** What every `tsb` command is made of: its description, how it runs, and the errors it reports. */
import { readFileSync } from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { parseRoles, ROLES, type Role } from '../auth/roles.js';
import type { Config } from '../config.js';
import type { PrismaClient } from '../generated/prisma/client.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly command: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export class CliError extends Error {
  override readonly name = 'CliError';
}

export type ParseOptions = NonNullable<ParseArgsConfig['options']>;
export type CliOption = ParseOptions[string] & { description: string };
export type Options = Record<string, CliOption>;
export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  name: string;
  usage: string;
  summary: string;
  details?: string;
  options: Options;
  /** the command signs JWTs: a development JWT key missing for a database in use is an error */
  usesTokenKeys?: boolean;
  /** Positional arguments: exact count. */
  positionals: string[];
  run(context: RunContext): Promise<void>;
}

export interface RunContext {
  values: Values;
  positionals: string[];
  io: CliIo;
  config: Readonly<Config>;
  /**
   * Runs `fn` on the database (created and migrated first unless TSB_RUN_MIGRATIONS=false). A master key at
   * hand (configured, or the development key in TSB_DATA_DIR) is checked against the database first: a command
   * never runs with a key that is not the database's; without one, nothing is made.
   */
  withDatabase<T>(fn: (prisma: PrismaClient) => Promise<T>): Promise<T>;
  /** withDatabase for a command that seals or opens keys: the master key is needed (made for an unused database). */
  withMasterKey<T>(fn: (prisma: PrismaClient, masterKey: Buffer) => Promise<T>): Promise<T>;
}

export async function requirePartition(prisma: PrismaClient, name: string) {
  const partition = await prisma.partition.findUnique({ where: { name } });
  if (!partition) throw new CliError(`unknown partition "${name}" (see: tsb partition list)`);
  return partition;
}

/** The `--partition NAME` option of the list commands (see partitionFilter). */
export const PARTITION_FILTER_OPTION = {
  partition: { type: 'string', description: 'only this partition' },
} as const;

/** The `where` of a listing limited by `--partition NAME`, or no limit without it. */
export async function partitionFilter(
  prisma: PrismaClient,
  partition: unknown,
): Promise<{ partitionId?: string }> {
  return typeof partition === 'string' && partition !== ''
    ? { partitionId: (await requirePartition(prisma, partition)).id }
    : {};
}

export const ROLE_LIST = ROLES.join(', ');

/** The roles of a `--roles` / `--role` option; an unknown role is a usage error. */
export function parseRoleOption(value: string, command: string): Role[] {
  try {
    return parseRoles(value);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

export function requiredString(values: Values, name: string, command: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '')
    throw new UsageError(`--${name} is required`, command);
  return value.trim();
}

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return `${rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** The bytes of a file the user named; `what` names it in the error (e.g. "the audit log"). */
export function readInputFile(file: string, what?: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CliError(`cannot read ${what ? `${what} ` : ''}${file}: ${(error as Error).message}`);
  }
}
