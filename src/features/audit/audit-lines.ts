/**
 * The export format of the audit log: JSON lines. The first line is a header (the chain and the key that
 * signs its checkpoints), then every entry in sequence order, each checkpoint right after the entry it
 * covers, and a checkpoint of the head at the end. Hashes are lowercase hex, signatures base64 (DER).
 */
import type {
  AuditCheckpoint,
  AuditEntry,
  AuditPrune,
  CheckpointLink,
  RefusalSummary,
} from './audit-chain.js';

/** version 2 added linked checkpoints; exports of version 1 are still read */
export const EXPORT_FORMAT = 'opentsb-audit-log/2';
/** the format of an export that starts with a `pruned` line: a verifier that does not know it refuses it */
export const PRUNED_EXPORT_FORMAT = 'opentsb-audit-log/3';
const READABLE_FORMATS: ReadonlySet<string> = new Set([
  'opentsb-audit-log/1',
  EXPORT_FORMAT,
  PRUNED_EXPORT_FORMAT,
]);

export interface AuditHeaderLine {
  type: 'header';
  format: string;
  chain: string;
  partition: { id: string; name: string } | null;
  /** PEM SubjectPublicKeyInfo of the key that signs the checkpoints; null for an unsigned chain */
  attestationPublicKey: string | null;
  /** PEM certificate of that key (issued by the service's device CA), when the partition has one */
  attestationCertificate: string | null;
  exportedAt: string;
}

export interface AuditEntryLine {
  type: 'entry';
  chain: string;
  sequence: number;
  partitionId: string | null;
  at: string;
  credentialId: string | null;
  roles: string[];
  action: string;
  keyLabel: string | null;
  requestId: string | null;
  outcome: string;
  statusCode: number;
  errorCode: number | null;
  /** only on an entry that counts refused unauthenticated requests: the first time, the client, how many */
  summary?: { firstAt: string; clientAddress: string; count: number };
  prevHash: string;
  hash: string;
}

export interface AuditCheckpointLine {
  type: 'checkpoint';
  /** 2; absent on a checkpoint of version 1, which has none of the three fields after it */
  version?: 2;
  chain: string;
  sequence: number;
  hash: string;
  at: string;
  every?: number;
  previousSequence?: number;
  previousHash?: string;
  signature: string;
}

/** The chain's prune statement (only in an export of PRUNED_EXPORT_FORMAT, right after the header). */
export interface AuditPrunedLine {
  type: 'pruned';
  version: 1;
  chain: string;
  /** the first entry the export holds: every one before it was deleted by the retention */
  sequence: number;
  hash: string;
  checkpointHash: string;
  at: string;
  /** base64 DER; empty on the unsigned service chain */
  signature: string;
}

export type AuditLine = AuditHeaderLine | AuditPrunedLine | AuditEntryLine | AuditCheckpointLine;

export function entryLine(entry: AuditEntry): AuditEntryLine {
  return {
    type: 'entry',
    chain: entry.chain,
    sequence: entry.sequence,
    partitionId: entry.partitionId,
    at: entry.at.toISOString(),
    credentialId: entry.credentialId,
    roles: entry.roles,
    action: entry.action,
    keyLabel: entry.keyLabel,
    requestId: entry.requestId,
    outcome: entry.outcome,
    statusCode: entry.statusCode,
    errorCode: entry.errorCode,
    ...(entry.summary
      ? {
          summary: {
            firstAt: entry.summary.firstAt.toISOString(),
            clientAddress: entry.summary.clientAddress,
            count: entry.summary.count,
          },
        }
      : {}),
    prevHash: entry.prevHash.toString('hex'),
    hash: entry.hash.toString('hex'),
  };
}

export function checkpointLine(checkpoint: AuditCheckpoint): AuditCheckpointLine {
  const { link } = checkpoint;
  return {
    type: 'checkpoint',
    ...(link ? { version: 2 as const } : {}),
    chain: checkpoint.chain,
    sequence: checkpoint.sequence,
    hash: checkpoint.hash.toString('hex'),
    at: checkpoint.at.toISOString(),
    ...(link
      ? {
          every: link.every,
          previousSequence: link.previousSequence,
          previousHash: link.previousHash.toString('hex'),
        }
      : {}),
    signature: checkpoint.signature.toString('base64'),
  };
}

export function prunedLine(prune: AuditPrune): AuditPrunedLine {
  return {
    type: 'pruned',
    version: 1,
    chain: prune.chain,
    sequence: prune.sequence,
    hash: prune.hash.toString('hex'),
    checkpointHash: prune.checkpointHash.toString('hex'),
    at: prune.at.toISOString(),
    signature: prune.signature.toString('base64'),
  };
}

function summaryOf(line: Fields): RefusalSummary | null {
  const summary = line['summary'];
  if (summary === undefined || summary === null) return null;
  if (typeof summary !== 'object' || Array.isArray(summary))
    throw new MalformedLine('"summary" must be an object');
  const fields = summary as Fields;
  const count = integer(fields, 'count')!;
  if (count < 1) throw new MalformedLine('"summary.count" must be at least 1');
  return { firstAt: time(fields, 'firstAt'), clientAddress: text(fields, 'clientAddress')!, count };
}

function checkpointLinkOf(line: Fields): CheckpointLink | null {
  const version = line['version'];
  if (version === undefined || version === 1) return null;
  if (version !== 2) throw new MalformedLine('"version" of a checkpoint must be 1 or 2');
  const every = integer(line, 'every')!;
  const previousSequence = integer(line, 'previousSequence')!;
  const sequence = integer(line, 'sequence')!;
  if (every < 1) throw new MalformedLine('"every" must be at least 1');
  if (previousSequence < 0 || previousSequence >= sequence)
    throw new MalformedLine('"previousSequence" must be at least 0 and below "sequence"');
  return {
    every,
    previousSequence,
    previousHash: Buffer.from(pattern(line, 'previousHash', HASH, '64 lowercase hex digits'), 'hex'),
  };
}

/** A line that is not one of the three shapes: what is wrong with it. */
export class MalformedLine extends Error {}

const HASH = /^[0-9a-f]{64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

type Fields = Record<string, unknown>;

function text(line: Fields, name: string, nullable = false): string | null {
  const value = line[name];
  if (typeof value === 'string') return value;
  if (nullable && value === null) return null;
  throw new MalformedLine(`"${name}" must be ${nullable ? 'a string or null' : 'a string'}`);
}

function integer(line: Fields, name: string, nullable = false): number | null {
  const value = line[name];
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (nullable && value === null) return null;
  throw new MalformedLine(`"${name}" must be an integer${nullable ? ' or null' : ''}`);
}

function pattern(line: Fields, name: string, expected: RegExp, what: string): string {
  const value = text(line, name)!;
  if (!expected.test(value)) throw new MalformedLine(`"${name}" must be ${what}`);
  return value;
}

function time(line: Fields, name: string): Date {
  const value = pattern(line, name, ISO_TIME, 'an ISO-8601 UTC time with milliseconds');
  const at = new Date(value);
  if (Number.isNaN(at.getTime()) || at.toISOString() !== value)
    throw new MalformedLine(`"${name}" is not a valid time`);
  return at;
}

export type ParsedLine =
  | { type: 'header'; header: AuditHeaderLine }
  | { type: 'entry'; entry: AuditEntry }
  | { type: 'checkpoint'; checkpoint: AuditCheckpoint }
  | { type: 'pruned'; prune: AuditPrune };

/** Parses one line of an export; throws MalformedLine with the reason. */
export function parseLine(raw: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new MalformedLine('not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new MalformedLine('not a JSON object');
  const line = value as Fields;
  switch (line['type']) {
    case 'header': {
      const format = line['format'];
      if (typeof format !== 'string' || !READABLE_FORMATS.has(format))
        throw new MalformedLine(`"format" must be "${EXPORT_FORMAT}" (or "opentsb-audit-log/1")`);
      const partition = line['partition'];
      if (partition !== null && (typeof partition !== 'object' || Array.isArray(partition)))
        throw new MalformedLine('"partition" must be an object or null');
      return {
        type: 'header',
        header: {
          type: 'header',
          format,
          chain: text(line, 'chain')!,
          partition: partition as AuditHeaderLine['partition'],
          attestationPublicKey: text(line, 'attestationPublicKey', true),
          attestationCertificate: text(line, 'attestationCertificate', true),
          exportedAt: text(line, 'exportedAt')!,
        },
      };
    }
    case 'entry': {
      const roles = line['roles'];
      // the entry hash joins the roles with "," (one field): only names without "," and never empty read back
      // as one list, so ["a","b"] cannot pass for ["a,b"], nor [] for [""]
      if (
        !Array.isArray(roles) ||
        roles.some((role) => typeof role !== 'string' || role === '' || role.includes(','))
      )
        throw new MalformedLine('"roles" must be an array of role names (non-empty, without ",")');
      return {
        type: 'entry',
        entry: {
          chain: text(line, 'chain')!,
          sequence: integer(line, 'sequence')!,
          partitionId: text(line, 'partitionId', true),
          at: time(line, 'at'),
          credentialId: text(line, 'credentialId', true),
          roles: roles as string[],
          action: text(line, 'action')!,
          keyLabel: text(line, 'keyLabel', true),
          requestId: text(line, 'requestId', true),
          outcome: text(line, 'outcome')!,
          statusCode: integer(line, 'statusCode')!,
          errorCode: integer(line, 'errorCode', true),
          summary: summaryOf(line),
          prevHash: Buffer.from(pattern(line, 'prevHash', HASH, '64 lowercase hex digits'), 'hex'),
          hash: Buffer.from(pattern(line, 'hash', HASH, '64 lowercase hex digits'), 'hex'),
        },
      };
    }
    case 'checkpoint':
      return {
        type: 'checkpoint',
        checkpoint: {
          chain: text(line, 'chain')!,
          sequence: integer(line, 'sequence')!,
          hash: Buffer.from(pattern(line, 'hash', HASH, '64 lowercase hex digits'), 'hex'),
          at: time(line, 'at'),
          signature: Buffer.from(pattern(line, 'signature', BASE64, 'base64'), 'base64'),
          link: checkpointLinkOf(line),
        },
      };
    case 'pruned': {
      if (line['version'] !== 1) throw new MalformedLine('"version" of a pruned line must be 1');
      const sequence = integer(line, 'sequence')!;
      if (sequence < 1) throw new MalformedLine('"sequence" must be at least 1');
      return {
        type: 'pruned',
        prune: {
          chain: text(line, 'chain')!,
          sequence,
          hash: Buffer.from(pattern(line, 'hash', HASH, '64 lowercase hex digits'), 'hex'),
          checkpointHash: Buffer.from(
            pattern(line, 'checkpointHash', HASH, '64 lowercase hex digits'),
            'hex',
          ),
          at: time(line, 'at'),
          signature: Buffer.from(pattern(line, 'signature', BASE64, 'base64'), 'base64'),
        },
      };
    }
    default:
      throw new MalformedLine('"type" must be "header", "pruned", "entry" or "checkpoint"');
  }
}
