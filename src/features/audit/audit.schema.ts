import type { Readable } from 'node:stream';
import { Type } from 'typebox';

export const AUDIT_LOG_MEDIA_TYPE = 'application/x-ndjson';

export const AuditExportSchema = Type.Unsafe<Readable>({
  type: 'string',
  description:
    'JSON lines (docs/audit-log.md): a header with the attestation public key (and certificate), every entry ' +
    'in sequence order, each checkpoint after the entry it covers, and a checkpoint of the head at the end',
});

export const AuditVerifyJsonBodySchema = Type.Object({
  log: Type.String({ description: 'the exported log, as GET /v1/audit/export returned it' }),
});

export const AuditVerifyTextBodySchema = Type.String({
  description: 'the exported log, as GET /v1/audit/export returned it',
});

export const AuditVerificationSchema = Type.Object({
  valid: Type.Boolean({ description: 'true when no problem was found' }),
  chain: Type.Union([Type.String(), Type.Null()], {
    description: 'the chain the log is of (a partition id)',
  }),
  entries: Type.Integer(),
  checkpoints: Type.Integer(),
  coveredThrough: Type.Integer({
    description: 'the highest sequence a valid checkpoint signature vouches for (0: none)',
  }),
  startsAt: Type.Integer({
    description:
      'the first entry of a log whose older entries the retention deleted behind a valid prune statement; 1 otherwise',
  }),
  keySource: Type.Union([Type.Literal('given'), Type.Literal('header'), Type.Literal('none')], {
    description:
      'which key checked the signatures: here always the partition’s own attestation key ("given")',
  }),
  notes: Type.Array(Type.String()),
  problems: Type.Array(
    Type.Object({
      sequence: Type.Union([Type.Integer(), Type.Null()]),
      kind: Type.Union([
        Type.Literal('malformed'),
        Type.Literal('edited'),
        Type.Literal('removed'),
        Type.Literal('reordered'),
        Type.Literal('checkpoint-mismatch'),
        Type.Literal('missing-signature'),
        Type.Literal('bad-signature'),
        Type.Literal('missing-checkpoint'),
        Type.Literal('broken-checkpoint-chain'),
        Type.Literal('uncovered-tail'),
      ]),
      problem: Type.String(),
    }),
    {
      description:
        'every problem found, by sequence (an uncovered tail last); the first is where the log stops being trustworthy',
    },
  ),
});
