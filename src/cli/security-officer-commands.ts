/**
 * `tsb officer add|list|revoke`: the security officers of a partition (public keys that sign four-eyes
 * proposals), and `tsb partition backup|restore`: a partition as one file whose keys stay sealed.
 * docs/security-officers.md explains both.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { systemClock } from '../clock.js';
import { TsbError } from '../errors.js';
import { parseOfficerKey } from '../features/officers/officer-key.js';
import { OFFICER_NAME_PATTERN, OfficerRegistry } from '../features/officers/officer-registry.js';
import { PartitionBackups } from '../keystore/partition-backup.js';
import { PARTITION_NAME_PATTERN } from '../lib/partition-name.js';
import {
  CliError,
  type Command,
  PARTITION_FILTER_OPTION,
  readInputFile,
  requiredString,
  requirePartition,
  table,
  UsageError,
} from './command.js';

export const SECURITY_OFFICER_COMMANDS: Command[] = [
  {
    name: 'officer add',
    usage: 'tsb officer add PARTITION --name NAME --public-key FILE',
    summary: 'register a security officer of a partition by their public key',
    details:
      'FILE: the officer’s public key as PEM or DER SubjectPublicKeyInfo, or an X.509 certificate (PEM or DER)\n' +
      'whose public key counts. Key types: RSA 2048-8192, EC P-256/P-384/P-521/secp256k1, Ed25519, ML-DSA.\n' +
      'Officers sign proposals and approvals (docs/security-officers.md); callers also need a credential\n' +
      'with the securityOfficer role (tsb token issue --roles securityOfficer).',
    options: {
      name: { type: 'string', description: 'the officer’s name, unique in the partition' },
      'public-key': { type: 'string', description: 'file with the officer’s public key or certificate' },
    },
    positionals: ['PARTITION'],
    async run({ values, positionals, io, withDatabase }) {
      const command = 'officer add';
      const name = requiredString(values, 'name', command);
      if (!OFFICER_NAME_PATTERN.test(name)) {
        throw new UsageError(
          `invalid officer name "${name}": 1-64 letters, digits, ".", "_", "@" or "-"`,
          command,
        );
      }
      const file = requiredString(values, 'public-key', command);
      let key: ReturnType<typeof parseOfficerKey>;
      try {
        key = parseOfficerKey(readInputFile(file), file);
      } catch (error) {
        if (error instanceof TsbError) throw new CliError(error.message);
        throw error;
      }
      const officer = await withDatabase(async (prisma) => {
        const partition = await requirePartition(prisma, positionals[0]!);
        return new OfficerRegistry(prisma).add(partition.id, name, key);
      });
      io.stdout(
        `officer: ${officer.name}\npartition: ${positionals[0]}\nkey: ${key.keyAlgorithm}\nfingerprint: ${officer.fingerprint}\n`,
      );
    },
  },
  {
    name: 'officer list',
    usage: 'tsb officer list [--partition NAME]',
    summary: 'list security officers (names, key fingerprints, revocation)',
    options: PARTITION_FILTER_OPTION,
    positionals: [],
    async run({ values, io, withDatabase }) {
      const officers = await withDatabase(async (prisma) => {
        const partition =
          typeof values['partition'] === 'string'
            ? await requirePartition(prisma, values['partition'])
            : null;
        return new OfficerRegistry(prisma).list(partition?.id);
      });
      io.stdout(
        table([
          ['PARTITION', 'NAME', 'FINGERPRINT', 'CREATED', 'REVOKED'],
          ...officers.map((officer) => [
            officer.partition.name,
            officer.name,
            officer.fingerprint,
            officer.createdAt.toISOString(),
            officer.revokedAt?.toISOString() ?? '-',
          ]),
        ]),
      );
    },
  },
  {
    name: 'officer revoke',
    usage: 'tsb officer revoke PARTITION NAME',
    summary: 'revoke a security officer: their signatures count no more, their pending proposals cannot pass',
    options: {},
    positionals: ['PARTITION', 'NAME'],
    async run({ positionals, io, withDatabase }) {
      const [partitionName, name] = positionals as [string, string];
      const revoked = await withDatabase(async (prisma) => {
        const partition = await requirePartition(prisma, partitionName);
        return new OfficerRegistry(prisma).revoke(partition.id, name, new Date());
      });
      if (!revoked) throw new CliError(`no active officer "${name}" in partition "${partitionName}"`);
      io.stdout(`revoked officer ${name} of ${partitionName}\n`);
    },
  },
  {
    name: 'partition backup',
    usage: 'tsb partition backup NAME --out FILE',
    summary: 'write a partition (keys sealed as stored, officers, policy) to one backup file',
    details:
      'The file holds the partition row, every key (active and in the trash bin) and the officers, with an\n' +
      'HMAC-SHA256 under a key derived from the master key: only a service with the same master key restores it.\n' +
      'Key password verifiers are sealed under the partition key: the file reveals no key password.\n' +
      'Credentials (API keys, tokens, client certificates), SKA requests and proposals are not in it.',
    options: { out: { type: 'string', description: 'the file to write (mode 600)' } },
    positionals: ['NAME'],
    async run({ values, positionals, io, withMasterKey }) {
      const out = requiredString(values, 'out', 'partition backup');
      // written beside the file first: a failed export leaves no file that looks like a whole backup
      const partial = `${out}.partial`;
      const written = await withMasterKey(async (prisma, masterKey) => {
        const partition = await requirePartition(prisma, positionals[0]!);
        const backup = await new PartitionBackups(prisma, masterKey, systemClock).stream(partition.id);
        try {
          await pipeline(backup.body, createWriteStream(partial, { mode: 0o600 }));
          return await backup.written;
        } catch (error) {
          await rm(partial, { force: true });
          throw error;
        }
      });
      await rename(partial, out);
      io.stdout(
        `partition ${positionals[0]} (${written.keys} keys, ${written.officers} officers) written to ${out}\n`,
      );
    },
  },
  {
    name: 'partition restore',
    usage: 'tsb partition restore FILE [--name NEW_NAME]',
    summary: 'restore a partition backup into this service (same master key needed)',
    details:
      'Refused before anything is written when the file does not verify under this master key, or when the\n' +
      'partition id or name exists already. --name restores under another name (the id stays: sealed keys are\n' +
      'bound to it). Everything is written in one transaction.',
    options: { name: { type: 'string', description: 'restore under this partition name' } },
    positionals: ['FILE'],
    async run({ values, positionals, io, withMasterKey }) {
      const file = positionals[0]!;
      const name = typeof values['name'] === 'string' ? values['name'] : undefined;
      if (name !== undefined && !PARTITION_NAME_PATTERN.test(name)) {
        throw new UsageError(`invalid partition name "${name}"`, 'partition restore');
      }
      let document: unknown;
      try {
        document = JSON.parse(readInputFile(file).toString('utf8'));
      } catch (error) {
        if (error instanceof CliError) throw error;
        throw new CliError(`${file} is not JSON: not a partition backup`);
      }
      const restored = await withMasterKey((prisma, masterKey) =>
        new PartitionBackups(prisma, masterKey, systemClock).restore(document, name ? { name } : {}),
      );
      io.stdout(
        `restored partition ${restored.name} (id ${restored.id}): ${restored.keys} keys ` +
          `(${restored.invalidatedKeys} in the trash bin), ${restored.officers} officers\n`,
      );
      if (!restored.certificatesKept) {
        io.stderr(
          'note: its attestation and timestamp certificates will be issued anew by this service on first use\n',
        );
      }
    },
  },
];
