/**
 * `tsb`: the operator's command line for partitions, tokens, API keys and client certificates.
 * It reads the same environment as the service (DATABASE_URL, TSB_DATA_DIR, TSB_MASTER_KEY,
 * JWT_*), so what it creates is what the service sees. Run through bin/tsb.js.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ApiKeyStore } from '../auth/api-keys.js';
import { ClientCertificateStore } from '../auth/client-certificates.js';
import { createJwtIssuer } from '../auth/jwt.js';
import { parseRoles, ROLES, UnknownRoleError } from '../auth/roles.js';
import { ConfigError, loadConfig } from '../config.js';
import { deployMigrations, ensureDatabase } from '../db/migrations.js';
import { createPrismaClient } from '../db/prisma.js';
import { TsbError } from '../errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { PartitionFlags } from '../hsm/partition-flags.js';
import { UUID_PATTERN } from '../lib/encoding.js';
import { PARTITION_NAME_PATTERN } from '../lib/partition-name.js';
import { commandPartitions } from '../services.js';
import { APPROVER_COMMANDS } from './approver-commands.js';
import { AUDIT_COMMANDS } from './audit-commands.js';
import {
  CliError,
  type CliIo,
  type Command,
  masterKeyFor,
  type ParseOptions,
  readInputFile,
  requiredString,
  requirePartition,
  table,
  UsageError,
  type Values,
} from './command.js';
import { SECURITY_OFFICER_COMMANDS } from './security-officer-commands.js';

export type { CliIo } from './command.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

const ROLE_LIST = ROLES.join(', ');

/** The `where` of a listing limited by `--partition NAME`, or no limit without it. */
async function partitionFilter(prisma: PrismaClient, partition: unknown): Promise<{ partitionId?: string }> {
  return typeof partition === 'string' && partition !== ''
    ? { partitionId: (await requirePartition(prisma, partition)).id }
    : {};
}

function roles(value: string, command: string) {
  try {
    return parseRoles(value);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
}

function flagsText(p: PartitionFlags): string {
  const flags = [
    p.allowKeyImport ? 'key-import' : 'no-key-import',
    p.allowKeyExport ? 'key-export' : 'no-key-export',
  ];
  if (p.keyInvalidation) flags.push('key-invalidation');
  if (p.readOnly) flags.push('read-only');
  if (!p.allowObjectDestruction) flags.push('no-object-destruction');
  if (!p.allowObjectUsage) flags.push('no-object-usage');
  return flags.join(',');
}

const COMMANDS: Command[] = [
  {
    name: 'partition create',
    usage: 'tsb partition create NAME [--key-export] [--no-key-import] [--key-invalidation] [--read-only]',
    summary: 'create a partition (tenant) with its own partition key',
    details:
      'NAME: 1-64 characters, letters, digits, ".", "_" or "-". The partition key is sealed under the\n' +
      'master key (TSB_MASTER_KEY / TSB_MASTER_KEY_FILE, else the development key in TSB_DATA_DIR).\n' +
      'Prints the partition name and id.',
    options: {
      'key-export': { type: 'boolean', description: 'allow exporting extractable keys (default: no)' },
      'no-key-import': { type: 'boolean', description: 'refuse key import (default: import allowed)' },
      'key-invalidation': { type: 'boolean', description: 'deleting a key only invalidates it' },
      'read-only': { type: 'boolean', description: 'keys can be used but not created, changed or deleted' },
    },
    positionals: ['NAME'],
    async run({ values, positionals, io, config, withDatabase }) {
      const name = positionals[0]!;
      if (!PARTITION_NAME_PATTERN.test(name)) {
        throw new UsageError(
          `invalid partition name "${name}": 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
          'partition create',
        );
      }
      const masterKey = masterKeyFor(config, io);
      const flags: Partial<PartitionFlags> = {
        allowKeyExport: values['key-export'] === true,
        allowKeyImport: values['no-key-import'] !== true,
        keyInvalidation: values['key-invalidation'] === true,
        readOnly: values['read-only'] === true,
      };
      const partition = await withDatabase(async (prisma) => {
        if (await prisma.partition.findUnique({ where: { name } })) {
          throw new CliError(`partition "${name}" already exists`);
        }
        return commandPartitions(prisma, masterKey).create(name, flags);
      });
      io.stdout(`name: ${partition.name}\nid: ${partition.id}\nflags: ${flagsText(partition)}\n`);
    },
  },
  {
    name: 'partition webhook',
    usage: 'tsb partition webhook NAME (--url URL | --remove)',
    summary: "set or remove the partition's approver notification webhook",
    details:
      'The URL receives a POST with a JSON body when a request creates approval tasks and when it ends,\n' +
      'signed by the partition timestamp key (header X-OpenTSB-Signature, ECDSA P-256/SHA-256, base64 DER).',
    options: {
      url: { type: 'string', description: 'the http(s) URL to call' },
      remove: { type: 'boolean', description: 'stop calling the webhook' },
    },
    positionals: ['NAME'],
    async run({ values, positionals, io, config, withDatabase }) {
      const name = positionals[0]!;
      const url = typeof values['url'] === 'string' ? values['url'] : null;
      if ((url === null) === (values['remove'] !== true)) {
        throw new UsageError('give either --url URL or --remove', 'partition webhook');
      }
      if (url !== null && !/^https?:\/\/\S+$/.test(url)) {
        throw new UsageError(`"${url}" is not an http(s) URL`, 'partition webhook');
      }
      await withDatabase(async (prisma) => {
        const partition = await requirePartition(prisma, name);
        await commandPartitions(prisma, () => masterKeyFor(config, io)).updateWebhookUrl(partition.id, url);
      });
      io.stdout(url ? `webhook of ${name}: ${url}\n` : `webhook of ${name} removed\n`);
    },
  },
  {
    name: 'partition approver-keys',
    usage: 'tsb partition approver-keys NAME (--on | --off)',
    summary: 'let approvers work without an API credential, by their key signatures alone (default on)',
    details:
      'On (the default, as in the TSB): the task listings, POST /v1/approval and DELETE /v1/task may be\n' +
      "called without a credential; the approver's signature (over a fresh timestamp, the challenge or the\n" +
      'rejection) authenticates it, and it sees only the tasks of its key. Off: approvers also need a\n' +
      'credential with the approver role of this partition.',
    options: {
      on: { type: 'boolean', description: 'approver key signatures suffice' },
      off: { type: 'boolean', description: 'approvers need a credential too' },
    },
    positionals: ['NAME'],
    async run({ values, positionals, io, config, withDatabase }) {
      const name = positionals[0]!;
      if ((values['on'] === true) === (values['off'] === true)) {
        throw new UsageError('give either --on or --off', 'partition approver-keys');
      }
      const enabled = values['on'] === true;
      await withDatabase(async (prisma) => {
        const partition = await requirePartition(prisma, name);
        await commandPartitions(prisma, () => masterKeyFor(config, io)).updateApproverKeyAuthentication(
          partition.id,
          enabled,
        );
      });
      io.stdout(
        enabled
          ? `approvers of ${name} may work without a credential (key signatures)\n`
          : `approvers of ${name} need a credential with the approver role\n`,
      );
    },
  },
  {
    name: 'partition list',
    usage: 'tsb partition list [--json]',
    summary: 'list the partitions',
    options: { json: { type: 'boolean', description: 'print JSON' } },
    positionals: [],
    async run({ values, io, withDatabase }) {
      const partitions = await withDatabase((prisma) =>
        prisma.partition.findMany({ orderBy: { name: 'asc' } }),
      );
      if (values['json'] === true) {
        const rows = partitions.map((p) => ({
          name: p.name,
          id: p.id,
          allowKeyImport: p.allowKeyImport,
          allowKeyExport: p.allowKeyExport,
          keyInvalidation: p.keyInvalidation,
          readOnly: p.readOnly,
          createdAt: p.createdAt.toISOString(),
        }));
        io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (partitions.length === 0) {
        io.stderr('no partitions yet (create one with: tsb partition create NAME)\n');
        return;
      }
      io.stdout(
        table([
          ['NAME', 'ID', 'FLAGS', 'CREATED'],
          ...partitions.map((p) => [p.name, p.id, flagsText(p), p.createdAt.toISOString()]),
        ]),
      );
    },
  },
  {
    name: 'token issue',
    usage: 'tsb token issue --partition NAME --roles ROLE[,ROLE...] [--ttl SECONDS] [--subject SUB]',
    summary: 'issue a bearer JWT for a partition (prints only the token)',
    details:
      `ROLE: ${ROLE_LIST}.\n` +
      'Signs with JWT_PRIVATE_KEY_FILE, else the development key in TSB_DATA_DIR.\n' +
      'Example: TOKEN=$(npx tsb token issue --partition demo --roles keyManagement)',
    options: {
      partition: { type: 'string', description: 'partition name' },
      roles: { type: 'string', description: 'comma-separated roles' },
      ttl: { type: 'string', default: '3600', description: 'lifetime in seconds (default 3600)' },
      subject: { type: 'string', description: 'the "sub" claim (default: the partition name)' },
    },
    positionals: [],
    async run({ values, io, config, withDatabase }) {
      const command = 'token issue';
      const partitionName = requiredString(values, 'partition', command);
      const roleList = roles(requiredString(values, 'roles', command), command);
      const ttlText = String(values['ttl']);
      const ttlSeconds = Number(ttlText);
      if (!/^\d+$/.test(ttlText) || ttlSeconds < 1) {
        throw new UsageError(`--ttl must be a positive number of seconds (got "${ttlText}")`, command);
      }
      const issuer = createJwtIssuer(config);
      await withDatabase((prisma) => requirePartition(prisma, partitionName));
      const subject = typeof values['subject'] === 'string' ? values['subject'] : undefined;
      const token = await issuer.issueToken({
        partition: partitionName,
        roles: roleList,
        ttlSeconds,
        ...(subject ? { subject } : {}),
      });
      io.stdout(`${token}\n`);
    },
  },
  {
    name: 'apikey create',
    usage: 'tsb apikey create --partition NAME --role ROLE',
    summary: 'create an API key (X-API-KEY) for a partition; the key is printed once',
    details: `ROLE: ${ROLE_LIST}. Only the key's SHA-256 is stored: keep the printed key safe.`,
    options: {
      partition: { type: 'string', description: 'partition name' },
      role: { type: 'string', description: 'the role the key grants' },
    },
    positionals: [],
    async run({ values, io, withDatabase }) {
      const command = 'apikey create';
      const partitionName = requiredString(values, 'partition', command);
      const roleList = roles(requiredString(values, 'role', command), command);
      if (roleList.length !== 1) throw new UsageError('an API key carries exactly one role', command);
      const created = await withDatabase(async (prisma) => {
        const partition = await requirePartition(prisma, partitionName);
        return new ApiKeyStore(prisma).create(partition.id, roleList[0]!);
      });
      io.stdout(`${created.key}\n`);
      io.stderr(
        `API key ${created.id} (role ${created.role}, partition ${partitionName}) created. ` +
          'It is shown only this once: store it now.\n',
      );
    },
  },
  {
    name: 'apikey list',
    usage: 'tsb apikey list [--partition NAME]',
    summary: 'list API keys (ids and roles, never the keys)',
    options: { partition: { type: 'string', description: 'only this partition' } },
    positionals: [],
    async run({ values, io, withDatabase }) {
      const rows = await withDatabase(async (prisma) => {
        const where = await partitionFilter(prisma, values['partition']);
        return prisma.apiKey.findMany({
          where,
          include: { partition: { select: { name: true } } },
          orderBy: { createdAt: 'asc' },
        });
      });
      io.stdout(
        table([
          ['ID', 'PARTITION', 'ROLE', 'CREATED', 'REVOKED'],
          ...rows.map((r) => [
            r.id,
            r.partition.name,
            r.role,
            r.createdAt.toISOString(),
            r.revokedAt?.toISOString() ?? '-',
          ]),
        ]),
      );
    },
  },
  {
    name: 'apikey revoke',
    usage: 'tsb apikey revoke ID',
    summary: 'revoke an API key by id (running services notice within a minute)',
    options: {},
    positionals: ['ID'],
    async run({ positionals, io, withDatabase }) {
      const id = positionals[0]!;
      if (!UUID_PATTERN.test(id))
        throw new UsageError(`"${id}" is not an API key id (a UUID, see: tsb apikey list)`, 'apikey revoke');
      const revoked = await withDatabase((prisma) => new ApiKeyStore(prisma).revoke(id));
      if (!revoked) throw new CliError(`no active API key with id ${id}`);
      io.stdout(`revoked API key ${id}\n`);
    },
  },
  {
    name: 'cert register',
    usage: 'tsb cert register --partition NAME --roles ROLE[,ROLE...] FILE',
    summary: 'register a TLS client certificate (PEM or DER) for a partition',
    details:
      `ROLE: ${ROLE_LIST}.\n` +
      'The service must run with TLS_CLIENT_CA_FILE, and the certificate must chain to that CA.\n' +
      'The certificate is identified by the SHA-256 of its DER encoding.',
    options: {
      partition: { type: 'string', description: 'partition name' },
      roles: { type: 'string', description: 'comma-separated roles' },
    },
    positionals: ['FILE'],
    async run({ values, positionals, io, withDatabase }) {
      const command = 'cert register';
      const partitionName = requiredString(values, 'partition', command);
      const roleList = roles(requiredString(values, 'roles', command), command);
      const file = positionals[0]!;
      const data = readInputFile(file);
      const registered = await withDatabase(async (prisma) => {
        const partition = await requirePartition(prisma, partitionName);
        try {
          return await new ClientCertificateStore(prisma).register(partition.id, data, roleList);
        } catch (error) {
          throw new CliError(`${file}: ${(error as Error).message}`);
        }
      });
      if (registered.validTo.getTime() < Date.now())
        io.stderr(`warning: the certificate expired on ${registered.validTo.toISOString()}\n`);
      io.stdout(
        `id: ${registered.id}\nfingerprint: ${registered.fingerprint}\nsubject: ${registered.subject}\nroles: ${registered.roles.join(',')}\n`,
      );
    },
  },
  {
    name: 'cert list',
    usage: 'tsb cert list [--partition NAME]',
    summary: 'list registered client certificates',
    options: { partition: { type: 'string', description: 'only this partition' } },
    positionals: [],
    async run({ values, io, withDatabase }) {
      const rows = await withDatabase(async (prisma) => {
        const where = await partitionFilter(prisma, values['partition']);
        return prisma.clientCertificate.findMany({
          where,
          include: { partition: { select: { name: true } } },
          orderBy: { createdAt: 'asc' },
        });
      });
      io.stdout(
        table([
          ['ID', 'PARTITION', 'FINGERPRINT', 'ROLES', 'SUBJECT', 'REVOKED'],
          ...rows.map((r) => [
            r.id,
            r.partition.name,
            r.fingerprint,
            r.roles.join(','),
            r.subject,
            r.revokedAt?.toISOString() ?? '-',
          ]),
        ]),
      );
    },
  },
  {
    name: 'cert revoke',
    usage: 'tsb cert revoke ID|FINGERPRINT',
    summary: 'revoke a registered client certificate',
    options: {},
    positionals: ['ID|FINGERPRINT'],
    async run({ positionals, io, withDatabase }) {
      const target = positionals[0]!.toLowerCase().replaceAll(':', '');
      if (!UUID_PATTERN.test(target) && !/^[0-9a-f]{64}$/.test(target)) {
        throw new UsageError(
          `"${positionals[0]}" is neither a certificate id nor a SHA-256 fingerprint`,
          'cert revoke',
        );
      }
      const revoked = await withDatabase((prisma) => new ClientCertificateStore(prisma).revoke(target));
      if (!revoked) throw new CliError(`no active client certificate ${target}`);
      io.stdout(`revoked client certificate ${target}\n`);
    },
  },
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
