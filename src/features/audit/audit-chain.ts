/**
 * The hash chain of the audit log, pure: the exact bytes an entry and a checkpoint statement are made of
 * (docs/audit-log.md documents them for verifiers outside OpenTSB).
 *
 * Every field is written as a 4-byte big-endian length followed by that many bytes (UTF-8 for text);
 * an absent field (null) is the 4 bytes FF FF FF FF. Numbers are decimal text, times ISO-8601 UTC with
 * milliseconds (`2026-11-29T11:22:00.000Z`), roles one text field joined by ",".
 */
import { createHash, hash } from 'node:crypto';

/** The chain of requests that name no partition (authentication failures). */
export const SERVICE_CHAIN = 'service';
/** The prevHash of the first entry of every chain. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

export const ENTRY_DOMAIN = 'opentsb-audit-entry/1';
/** an entry that counts refused unauthenticated requests of one client address and window */
export const SUMMARY_DOMAIN = 'opentsb-audit-summary/1';
/** checkpoints signed before they were linked (version 1): (chain, sequence, hash, time) only */
export const CHECKPOINT_DOMAIN = 'opentsb-audit-checkpoint/1';
/** checkpoints of version 2: also the period they were signed under and the checkpoint before them */
export const LINKED_CHECKPOINT_DOMAIN = 'opentsb-audit-checkpoint/2';
/** the statement that a chain's entries before one of its checkpointed entries were deleted by retention */
export const PRUNE_DOMAIN = 'opentsb-audit-prune/1';

/** What one request leaves in the log, before it has a place in its chain. */
export interface AuditRecord {
  /** the partition id, or SERVICE_CHAIN */
  chain: string;
  partitionId: string | null;
  at: Date;
  /** `jwt:<principal>`, `apiKey:<id>` or `mtls:<fingerprint>`, several joined by "," */
  credentialId: string | null;
  roles: string[];
  /** "METHOD /route/pattern" */
  action: string;
  keyLabel: string | null;
  requestId: string | null;
  outcome: 'success' | 'failure';
  statusCode: number;
  errorCode: number | null;
  /** set on an entry that stands for several refused unauthenticated requests (`at` is the last of them) */
  summary?: RefusalSummary | null;
}

/** What a summary entry adds: how many requests of which client, from when (to `at`). */
export interface RefusalSummary {
  firstAt: Date;
  count: number;
  /** the client's IP address as the service saw it; "*" for the addresses beyond the per-window cap */
  clientAddress: string;
}

/** An entry as stored: the record, its place in the chain and the hashes that link it. */
export interface AuditEntry extends Omit<AuditRecord, 'outcome'> {
  /** as stored; a verifier must not assume it is one of the two values the service writes */
  outcome: string;
  /** 1 for the first entry of a chain */
  sequence: number;
  prevHash: Buffer;
  hash: Buffer;
}

/**
 * What a checkpoint of version 2 adds: the checkpoints of a chain form their own chain, each naming the one
 * before it, and each says how often checkpoints were due when it was signed.
 */
export interface CheckpointLink {
  /** TSB_AUDIT_CHECKPOINT_EVERY of the process that signed it */
  every: number;
  /** the sequence of the chain's checkpoint before this one; 0 when there was none */
  previousSequence: number;
  /** checkpointHash() of that checkpoint; GENESIS_HASH when there was none */
  previousHash: Buffer;
}

/** A signed statement that the entry `sequence` of `chain` has `hash`. */
export interface AuditCheckpoint {
  chain: string;
  sequence: number;
  hash: Buffer;
  at: Date;
  /** ECDSA P-256 / SHA-256, DER, by the partition's attestation key over checkpointStatement() */
  signature: Buffer;
  /** absent (or null) for a checkpoint of version 1, signed before checkpoints were linked */
  link?: CheckpointLink | null;
}

const ABSENT = 0xffffffff;

/** The fields, each as its 4-byte length and bytes (ABSENT for null), in one buffer (after `prefix`, if any). */
function encodeFields(values: ReadonlyArray<string | Uint8Array | null>, prefix?: Uint8Array): Buffer {
  let size = prefix?.length ?? 0;
  for (const value of values)
    size +=
      4 + (value === null ? 0 : typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  if (prefix) {
    out.set(prefix);
    at = prefix.length;
  }
  for (const value of values) {
    if (value === null) {
      out.writeUInt32BE(ABSENT, at);
      at += 4;
    } else if (typeof value === 'string') {
      const length = out.write(value, at + 4, 'utf8');
      out.writeUInt32BE(length, at);
      at += 4 + length;
    } else {
      out.writeUInt32BE(value.length, at);
      out.set(value, at + 4);
      at += 4 + value.length;
    }
  }
  return out;
}

const decimal = (value: number | null) => (value === null ? null : String(value));

/** The canonical bytes of an entry: every field but the two hashes (a summary's three fields at the end). */
export function encodeEntry(entry: Omit<AuditEntry, 'prevHash' | 'hash'>): Buffer {
  return encodeFields(entryFields(entry));
}

function entryFields(entry: Omit<AuditEntry, 'prevHash' | 'hash'>): Array<string | null> {
  const { summary } = entry;
  return [
    summary ? SUMMARY_DOMAIN : ENTRY_DOMAIN,
    entry.chain,
    decimal(entry.sequence),
    entry.partitionId,
    entry.at.toISOString(),
    entry.credentialId,
    entry.roles.join(','),
    entry.action,
    entry.keyLabel,
    entry.requestId,
    entry.outcome,
    decimal(entry.statusCode),
    decimal(entry.errorCode),
    ...(summary ? [summary.firstAt.toISOString(), summary.clientAddress, decimal(summary.count)] : []),
  ];
}

/**
 * SHA-256(prevHash ‖ encodeEntry(entry)), as one buffer in one call: it runs for every request on the
 * event loop, and one-shot hashing saves creating a Hash object (≈ 0.8 µs of ≈ 3 per entry here).
 */
export function entryHash(entry: Omit<AuditEntry, 'hash'>): Buffer {
  return hash('sha256', encodeFields(entryFields(entry), entry.prevHash), 'buffer');
}

/** Gives records their places after the head (sequence, hash) of their chain, linking each to the one before. */
export function chainRecords(
  head: { sequence: number; hash: Buffer },
  records: readonly AuditRecord[],
): AuditEntry[] {
  let { sequence, hash: prevHash } = head;
  return records.map((record) => {
    sequence += 1;
    const linked = { ...record, sequence, prevHash };
    const entry = { ...linked, hash: entryHash(linked) };
    prevHash = entry.hash;
    return entry;
  });
}

/**
 * The bytes a checkpoint signature covers: (chain, sequence, hash, time), and for version 2 also
 * (every, previousSequence, previousHash).
 */
export function checkpointStatement(checkpoint: Omit<AuditCheckpoint, 'signature'>): Buffer {
  const { link } = checkpoint;
  const signed = [
    checkpoint.chain,
    decimal(checkpoint.sequence),
    checkpoint.hash,
    checkpoint.at.toISOString(),
  ];
  if (!link) return encodeFields([CHECKPOINT_DOMAIN, ...signed]);
  return encodeFields([
    LINKED_CHECKPOINT_DOMAIN,
    ...signed,
    decimal(link.every),
    decimal(link.previousSequence),
    link.previousHash,
  ]);
}

/** SHA-256 of a checkpoint's statement: what the next checkpoint names as its previousHash. */
export function checkpointHash(checkpoint: Omit<AuditCheckpoint, 'signature'>): Buffer {
  return createHash('sha256').update(checkpointStatement(checkpoint)).digest();
}

/**
 * A signed statement that the entries (and checkpoints) of `chain` before `sequence` were deleted by the
 * retention, and that the kept log starts at entry `sequence`, which has `hash` and whose checkpoint's
 * statement has the SHA-256 `checkpointHash` (GENESIS_HASH on the unsigned service chain, which has none).
 */
export interface AuditPrune {
  chain: string;
  sequence: number;
  hash: Buffer;
  checkpointHash: Buffer;
  at: Date;
  /** ECDSA P-256 / SHA-256, DER, by the partition's attestation key over pruneStatement(); empty when unsigned */
  signature: Buffer;
}

/** The bytes a prune signature covers. */
export function pruneStatement(prune: Omit<AuditPrune, 'signature'>): Buffer {
  return encodeFields([
    PRUNE_DOMAIN,
    prune.chain,
    decimal(prune.sequence),
    prune.hash,
    prune.checkpointHash,
    prune.at.toISOString(),
  ]);
}
