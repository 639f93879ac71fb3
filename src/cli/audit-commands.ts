/** `tsb audit …`: export a partition's tamper-evident audit log, and verify an export offline. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { systemClock } from '../clock.js';
import { commandAuditExport } from '../command-services.js';
import type { ChainOwner } from '../features/audit/audit.service.js';
import { SERVICE_CHAIN } from '../features/audit/audit-chain.js';
import {
  type AuditVerification,
  readVerificationKey,
  verifyAuditLog,
} from '../features/audit/audit-verifier.js';
import {
  CliError,
  type CliIo,
  type Command,
  readInputFile,
  requirePartition,
  UsageError,
} from './command.js';

/** Names the service chain (requests that named no partition); "@" never starts a partition name. */
const SERVICE_CHAIN_ARGUMENT = `@${SERVICE_CHAIN}`;

function openForWriting(file: string): number {
  try {
    return openSync(file, 'w');
  } catch (error) {
    throw new CliError(`cannot write ${file}: ${(error as Error).message}`);
  }
}

function printReport(io: CliIo, report: AuditVerification): void {
  io.stdout(
    `chain: ${report.chain ?? '-'}\nentries: ${report.entries}\ncheckpoints: ${report.checkpoints}\n` +
      `covered through: ${report.coveredThrough}\n` +
      (report.startsAt > 1 ? `starts at: ${report.startsAt} (the entries before were pruned)\n` : ''),
  );
  for (const note of report.notes) io.stdout(`note: ${note}\n`);
  const shown = report.problems.slice(0, 20);
  for (const { sequence, kind, problem } of shown)
    io.stdout(`problem at ${sequence ?? '-'} (${kind}): ${problem}\n`);
  if (report.problems.length > shown.length)
    io.stdout(`… and ${report.problems.length - shown.length} more problems\n`);
}

export const AUDIT_COMMANDS: Command[] = [
  {
    name: 'audit verify',
    usage: 'tsb audit verify FILE [--public-key PEM_FILE | --certificate FILE] [--json]',
    summary: 'verify an exported audit log offline (hash chain and checkpoint signatures)',
    details:
      'Needs no database: only the export and the partition’s public attestation key (PEM or DER),\n' +
      'or its attestation certificate (GET /v1/attestation/certificates). Without either, the key in\n' +
      'the file’s own header is used, which proves integrity against that key only.\n' +
      'Exit status 0 when the log is valid, 1 with the first problem otherwise.',
    options: {
      'public-key': {
        type: 'string',
        description: 'the partition’s attestation public key (PEM or DER SPKI)',
      },
      certificate: { type: 'string', description: 'the partition’s attestation certificate (PEM or DER)' },
      json: { type: 'boolean', description: 'print the report as JSON' },
    },
    positionals: ['FILE'],
    async run({ values, positionals, io }) {
      const command = 'audit verify';
      const keyFile = values['public-key'];
      const certificateFile = values['certificate'];
      if (typeof keyFile === 'string' && typeof certificateFile === 'string')
        throw new UsageError('give --public-key or --certificate, not both', command);
      const trusted = typeof keyFile === 'string' ? keyFile : certificateFile;
      let publicKey = null;
      if (typeof trusted === 'string') {
        try {
          publicKey = readVerificationKey(readInputFile(trusted, 'the key file'));
        } catch (error) {
          if (error instanceof CliError) throw error;
          throw new CliError(`${trusted}: ${(error as Error).message}`);
        }
      }
      const text = readInputFile(positionals[0]!, 'the audit log').toString('utf8');
      const report = verifyAuditLog(text, { publicKey });
      if (values['json'] === true) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      else printReport(io, report);
      if (!report.valid) {
        const first = report.problems[0]!;
        throw new CliError(
          `the log is NOT valid: at ${first.sequence ?? '-'} (${first.kind}): ${first.problem}`,
        );
      }
      io.stdout(
        report.keySource === 'given'
          ? 'valid\n'
          : report.keySource === 'header'
            ? 'valid against the key in the file’s header only\n'
            : 'valid hash chain; unsigned\n',
      );
    },
  },
  {
    name: 'audit export',
    usage: 'tsb audit export PARTITION [--out FILE]',
    summary: "export a partition's audit log as JSON lines, ending in a freshly signed checkpoint",
    details:
      `PARTITION: a partition name, or ${SERVICE_CHAIN_ARGUMENT} for the unsigned service chain (requests that\n` +
      'named no partition). Signs the checkpoint with the partition’s attestation key, so it needs the\n' +
      'master key (TSB_MASTER_KEY / TSB_MASTER_KEY_FILE, else the development key in TSB_DATA_DIR).',
    options: { out: { type: 'string', description: 'write to this file instead of standard output' } },
    positionals: ['PARTITION'],
    async run({ values, positionals, io, config, withMasterKey }) {
      const name = positionals[0]!;
      const outFile = typeof values['out'] === 'string' ? values['out'] : null;
      let lines = 0;
      await withMasterKey(async (prisma, masterKey) => {
        const owner: ChainOwner =
          name === SERVICE_CHAIN_ARGUMENT ? null : await requirePartition(prisma, name);
        const audit = await commandAuditExport(config, prisma, masterKey, systemClock);
        const fd = outFile === null ? null : openForWriting(outFile);
        try {
          for await (const text of await audit.service.export(owner)) {
            if (fd === null) io.stdout(text);
            else writeSync(fd, text);
            lines += text.split('\n').length - 1;
          }
        } finally {
          if (fd !== null) closeSync(fd);
          await audit.close();
        }
      });
      if (outFile !== null) io.stderr(`wrote ${lines} lines to ${outFile}\n`);
    },
  },
];
