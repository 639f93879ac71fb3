/** `tsb partition create|webhook|approver-keys|list`: the partitions (tenants), each with its own partition key. */

import { commandPartitions } from '../command-services.js';
import type { PartitionFlags } from '../keystore/partitions/partition-flags.js';
import type { PartitionStore } from '../keystore/partitions/partition-store.js';
import { PARTITION_NAME_PATTERN } from '../lib/partition-name.js';
import { CliError, type Command, type RunContext, requirePartition, table, UsageError } from './command.js';

/** Changes a setting of partition `name` through the partition store, which announces it to running services. */
async function changePartition(
  withDatabase: RunContext['withDatabase'],
  name: string,
  change: (partitions: PartitionStore, id: string) => Promise<void>,
): Promise<void> {
  await withDatabase(async (prisma) => {
    const partition = await requirePartition(prisma, name);
    // these changes seal nothing: no master key needed
    await change(commandPartitions(prisma, NO_MASTER_KEY), partition.id);
  });
}

const NO_MASTER_KEY = (): Buffer => {
  throw new CliError('this command does not use the master key');
};

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

export const PARTITION_COMMANDS: Command[] = [
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
    async run({ values, positionals, io, withMasterKey }) {
      const name = positionals[0]!;
      if (!PARTITION_NAME_PATTERN.test(name)) {
        throw new UsageError(
          `invalid partition name "${name}": 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`,
          'partition create',
        );
      }
      const flags: Partial<PartitionFlags> = {
        allowKeyExport: values['key-export'] === true,
        allowKeyImport: values['no-key-import'] !== true,
        keyInvalidation: values['key-invalidation'] === true,
        readOnly: values['read-only'] === true,
      };
      const partition = await withMasterKey(async (prisma, masterKey) => {
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
    async run({ values, positionals, io, withDatabase }) {
      const name = positionals[0]!;
      const url = typeof values['url'] === 'string' ? values['url'] : null;
      if ((url === null) === (values['remove'] !== true)) {
        throw new UsageError('give either --url URL or --remove', 'partition webhook');
      }
      if (url !== null && !/^https?:\/\/\S+$/.test(url)) {
        throw new UsageError(`"${url}" is not an http(s) URL`, 'partition webhook');
      }
      await changePartition(withDatabase, name, (partitions, id) => partitions.updateWebhookUrl(id, url));
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
    async run({ values, positionals, io, withDatabase }) {
      const name = positionals[0]!;
      if ((values['on'] === true) === (values['off'] === true)) {
        throw new UsageError('give either --on or --off', 'partition approver-keys');
      }
      const enabled = values['on'] === true;
      await changePartition(withDatabase, name, (partitions, id) =>
        partitions.updateApproverKeyAuthentication(id, enabled),
      );
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
];
