/** `tsb apikey create|list|revoke`: the API keys (X-API-KEY) of the partitions; only their hashes are stored. */
import { ApiKeyStore } from '../auth/api-keys.js';
import { UUID_PATTERN } from '../lib/encoding.js';
import {
  CliError,
  type Command,
  PARTITION_FILTER_OPTION,
  parseRoleOption,
  partitionFilter,
  ROLE_LIST,
  requiredString,
  requirePartition,
  table,
  UsageError,
} from './command.js';

export const API_KEY_COMMANDS: Command[] = [
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
      const roleList = parseRoleOption(requiredString(values, 'role', command), command);
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
    options: PARTITION_FILTER_OPTION,
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
    summary: 'revoke an API key by id (running services refuse it at once)',
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
];
