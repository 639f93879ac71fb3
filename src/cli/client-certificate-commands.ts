/** `tsb cert register|list|revoke`: the TLS client certificates registered for the partitions. */
import { ClientCertificateStore } from '../auth/client-certificates.js';
import { UUID_PATTERN } from '../lib/encoding.js';
import {
  CliError,
  type Command,
  PARTITION_FILTER_OPTION,
  parseRoleOption,
  partitionFilter,
  ROLE_LIST,
  readInputFile,
  requiredString,
  requirePartition,
  table,
  UsageError,
} from './command.js';

export const CLIENT_CERTIFICATE_COMMANDS: Command[] = [
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
      const roleList = parseRoleOption(requiredString(values, 'roles', command), command);
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
    options: PARTITION_FILTER_OPTION,
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
    summary: 'revoke a registered client certificate (running services refuse it at once)',
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
];
