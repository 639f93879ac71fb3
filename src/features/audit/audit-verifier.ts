/**
 * Verifies an exported audit log, pure: with nothing but the export and the partition's public
 * attestation key it finds edited, removed and reordered entries, checkpoints whose entry changed,
 * bad or missing checkpoint signatures, and entries no valid checkpoint vouches for.
 */
import { createPublicKey, type KeyObject, verify, X509Certificate } from 'node:crypto';
import {
  type AuditCheckpoint,
  type AuditEntry,
  type AuditPrune,
  checkpointHash,
  checkpointStatement,
  entryHash,
  GENESIS_HASH,
  pruneStatement,
} from './audit-chain.js';
import { type AuditHeaderLine, MalformedLine, PRUNED_EXPORT_FORMAT, parseLine } from './audit-lines.js';

export type AuditProblemKind =
  | 'malformed'
  | 'edited'
  | 'removed'
  | 'reordered'
  | 'checkpoint-mismatch'
  | 'missing-signature'
  | 'bad-signature'
  | 'missing-checkpoint'
  | 'broken-checkpoint-chain'
  | 'uncovered-tail';

export interface AuditProblem {
  /** the entry (or checkpoint) sequence the problem starts at; null for a line that has none */
  sequence: number | null;
  kind: AuditProblemKind;
  problem: string;
}

export interface AuditVerification {
  valid: boolean;
  chain: string | null;
  entries: number;
  checkpoints: number;
  /** the highest sequence a valid checkpoint signature vouches for (0: none) */
  coveredThrough: number;
  /** the first entry of a log whose older entries the retention deleted (a valid prune statement); 1 otherwise */
  startsAt: number;
  /** which key checked the checkpoint signatures */
  keySource: 'given' | 'header' | 'none';
  /** what the result does and does not prove */
  notes: string[];
  /** every problem found, by sequence (an uncovered tail last); the first is where the log stops being trustworthy */
  problems: AuditProblem[];
}

export interface VerifyOptions {
  /** the partition's public attestation key from a trusted source; without it, the header's key is used */
  publicKey?: KeyObject | null;
}

/**
 * A public key from a PEM or DER SubjectPublicKeyInfo, or from a PEM or DER certificate.
 * Throws an Error naming what could not be read.
 */
export function readVerificationKey(bytes: Buffer): KeyObject {
  const text = bytes.toString('latin1');
  if (!text.includes('-----BEGIN') || text.includes('CERTIFICATE-----')) {
    try {
      return new X509Certificate(bytes).publicKey;
    } catch {
      // not a certificate: try a bare public key
    }
  }
  try {
    return text.includes('-----BEGIN')
      ? createPublicKey({ key: text, format: 'pem' })
      : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  } catch {
    throw new Error('neither a public key (PEM or DER SubjectPublicKeyInfo) nor a certificate (PEM or DER)');
  }
}

const hex = (bytes: Buffer) => bytes.toString('hex');

/** Whether `signature` is the key's ECDSA / SHA-256 signature (DER) of `statement`; false for anything unreadable. */
export function signedBy(key: KeyObject, statement: Buffer, signature: Buffer): boolean {
  try {
    return verify('sha256', statement, key, signature);
  } catch {
    return false;
  }
}

function range(from: number, to: number): string {
  return from === to ? `entry ${from} is` : `entries ${from}–${to} are`;
}

/** The lowest sequence in [from, to) that stands somewhere in the log: a skipped entry that was moved, not removed. */
function firstPresent(present: ReadonlySet<number>, from: number, to: number): number | null {
  let first: number | null = null;
  if (to - from <= present.size) {
    for (let sequence = from; sequence < to && first === null; sequence++)
      if (present.has(sequence)) first = sequence;
  } else {
    for (const sequence of present)
      if (sequence >= from && sequence < to && (first === null || sequence < first)) first = sequence;
  }
  return first;
}

export const fieldChanged = (sequence: number): AuditProblem => ({
  sequence,
  kind: 'edited',
  problem: `entry ${sequence} does not match its hash: a field was changed`,
});

/**
 * The problem of one entry, judged against the entry before it in the log (null for the first), or, for the
 * first entry of a pruned log, against the entry the prune statement names.
 */
function entryProblem(
  entry: AuditEntry,
  previous: AuditEntry | null,
  present: ReadonlySet<number>,
  sequenceOfHash: ReadonlyMap<string, number>,
  prune: AuditPrune | null,
): AuditProblem | null {
  const expected = previous ? previous.sequence + 1 : (prune?.sequence ?? 1);
  const { sequence } = entry;
  if (sequence < expected) {
    return {
      sequence,
      kind: 'reordered',
      problem: `entry ${sequence} comes after entry ${expected - 1} in the log`,
    };
  }
  if (sequence > expected) {
    const moved = firstPresent(present, expected, sequence);
    if (moved !== null) {
      return {
        sequence,
        kind: 'reordered',
        problem: `entry ${sequence} comes before entry ${moved} in the log`,
      };
    }
    return { sequence: expected, kind: 'removed', problem: `${range(expected, sequence - 1)} missing` };
  }
  if (!previous && prune) return prunedStartProblem(entry, prune);
  const expectedPrev = previous ? previous.hash : GENESIS_HASH;
  const linked = sequenceOfHash.get(hex(entry.prevHash));
  if (!entry.prevHash.equals(expectedPrev) && linked !== undefined && linked !== sequence - 1) {
    return {
      sequence,
      kind: 'reordered',
      problem: `entry ${sequence} was chained after entry ${linked}, not after entry ${sequence - 1}`,
    };
  }
  if (!entryHash(entry).equals(entry.hash)) return fieldChanged(sequence);
  if (!entry.prevHash.equals(expectedPrev)) {
    return previous
      ? {
          sequence: previous.sequence,
          kind: 'edited',
          problem: `entry ${previous.sequence} is not the entry ${sequence} was chained to: it was replaced`,
        }
      : {
          sequence,
          kind: 'edited',
          problem: `entry ${sequence} does not start the chain (prevHash is not zero)`,
        };
  }
  return null;
}

/** The first entry of a pruned log: its predecessor is gone, so the prune statement's hash vouches for it. */
function prunedStartProblem(entry: AuditEntry, prune: AuditPrune): AuditProblem | null {
  const { sequence } = entry;
  if (!entryHash(entry).equals(entry.hash)) return fieldChanged(sequence);
  if (!entry.hash.equals(prune.hash)) {
    return {
      sequence,
      kind: 'edited',
      problem: `entry ${sequence} is not the entry the prune statement names as the first one kept: it was replaced`,
    };
  }
  return null;
}

/** Why the prune statement does not count (then the entries before it count as removed), or null. */
function pruneProblem(prune: AuditPrune, key: KeyObject | null): AuditProblem | null {
  const { sequence } = prune;
  if (!key) return null;
  return signatureProblem(
    sequence,
    `the prune statement at entry ${sequence}`,
    pruneStatement(prune),
    prune.signature,
    key,
  );
}

/** A statement's (a checkpoint's, a prune statement's) missing or bad signature by the attestation key, or null. */
function signatureProblem(
  sequence: number,
  what: string,
  statement: Buffer,
  signature: Buffer,
  key: KeyObject,
): AuditProblem | null {
  if (signature.length === 0)
    return { sequence, kind: 'missing-signature', problem: `${what} has no signature` };
  return signedBy(key, statement, signature)
    ? null
    : {
        sequence,
        kind: 'bad-signature',
        problem: `the signature of ${what} does not verify with the attestation key`,
      };
}

/** What is wrong with a checkpoint (its entry missing or other than it signed, its signature), or null. */
export function checkpointProblem(
  checkpoint: AuditCheckpoint,
  entry: AuditEntry | undefined,
  key: KeyObject | null,
): AuditProblem | null {
  const { sequence } = checkpoint;
  if (!entry) {
    return {
      sequence,
      kind: 'removed',
      problem: `checkpoint ${sequence} vouches for entry ${sequence}, which is not in the log`,
    };
  }
  if (!entry.hash.equals(checkpoint.hash)) {
    return {
      sequence,
      kind: 'checkpoint-mismatch',
      problem: `entry ${sequence} is not the one checkpoint ${sequence} signed: the log was rewritten up to it`,
    };
  }
  if (!key) return null;
  return signatureProblem(
    sequence,
    `checkpoint ${sequence}`,
    checkpointStatement(checkpoint),
    checkpoint.signature,
    key,
  );
}

const MISSING_NAMED = 5;

/**
 * The multiples of `every` in (from, to) that have no checkpoint in the log: the first few and how many.
 * Checkpoints are linked to the one before them, so normally there is no multiple in between at all.
 */
function missingBoundaries(
  from: number,
  to: number,
  every: number,
  present: ReadonlyMap<number, unknown>,
): { first: number[]; count: number } {
  const first: number[] = [];
  const start = (Math.floor(from / every) + 1) * every;
  for (let boundary = start; boundary < to && first.length < MISSING_NAMED; boundary += every)
    if (!present.has(boundary)) first.push(boundary);
  if (first.length === 0) return { first, count: 0 };
  const due = Math.floor((to - 1) / every) - Math.floor(from / every);
  let there = 0;
  for (const sequence of present.keys())
    if (sequence > from && sequence < to && sequence % every === 0) there += 1;
  return { first, count: due - there };
}

/**
 * Checkpoints of version 2 form their own signed chain: each names the checkpoint before it (sequence
 * and statement hash) and the period it was signed under. The checkpoint it names must be in the log
 * and be that one, and every multiple of the period between the two must have a checkpoint of its own:
 * deleting checkpoints (to rewrite what they vouched for) leaves a hole that the next one shows.
 */
function checkpointChainProblems(
  all: readonly AuditCheckpoint[],
  valid: readonly AuditCheckpoint[],
  prune: AuditPrune | null,
): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const bySequence = new Map<number, AuditCheckpoint[]>();
  for (const checkpoint of all) {
    const list = bySequence.get(checkpoint.sequence);
    if (list) list.push(checkpoint);
    else bySequence.set(checkpoint.sequence, [checkpoint]);
  }
  const reported = new Set<number>();
  // the prune statement names the checkpoint it pruned to; that checkpoint stays, and it must verify
  if (prune && !valid.some((checkpoint) => checkpoint.sequence === prune.sequence)) {
    reported.add(prune.sequence);
    problems.push({
      sequence: prune.sequence,
      kind: 'missing-checkpoint',
      problem: `checkpoint ${prune.sequence}, which the prune statement names, is not in the log or does not verify: the log was pruned to a point no checkpoint of the partition vouches for`,
    });
  }
  for (const checkpoint of valid) {
    const { link, sequence } = checkpoint;
    if (prune && sequence === prune.sequence && !checkpointHash(checkpoint).equals(prune.checkpointHash)) {
      problems.push({
        sequence,
        kind: 'broken-checkpoint-chain',
        problem: `checkpoint ${sequence} is not the one the prune statement names: it was replaced`,
      });
    }
    if (!link) continue;
    const { previousSequence: previous, every } = link;
    // a predecessor below the prune point was pruned: only what is due from the first kept entry on is checked
    const predecessorPruned = prune !== null && previous < prune.sequence;
    if (!predecessorPruned && previous === 0) {
      if (!link.previousHash.equals(GENESIS_HASH)) {
        problems.push({
          sequence,
          kind: 'broken-checkpoint-chain',
          problem: `checkpoint ${sequence} names no checkpoint before it, but a previousHash that is not zero`,
        });
      }
    } else if (!predecessorPruned && !reported.has(previous)) {
      const candidates = bySequence.get(previous) ?? [];
      if (candidates.length === 0) {
        reported.add(previous);
        problems.push({
          sequence: previous,
          kind: 'missing-checkpoint',
          problem: `checkpoint ${previous} is not in the log, but checkpoint ${sequence} was signed after it: it was deleted`,
        });
      } else if (!candidates.some((candidate) => checkpointHash(candidate).equals(link.previousHash))) {
        reported.add(previous);
        problems.push({
          sequence: previous,
          kind: 'broken-checkpoint-chain',
          problem: `checkpoint ${previous} is not the one checkpoint ${sequence} was signed after: it was replaced`,
        });
      }
    }
    const missing = missingBoundaries(Math.max(previous, prune?.sequence ?? 0), sequence, every, bySequence);
    const unreported = missing.first.filter((boundary) => !reported.has(boundary));
    if (unreported.length === 0) continue;
    for (const boundary of missing.first) reported.add(boundary);
    const more = missing.count - missing.first.length;
    const named =
      missing.first.length === 1
        ? `no checkpoint at entry ${missing.first[0]}`
        : `no checkpoints at entries ${missing.first.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
    problems.push({
      sequence: unreported[0]!,
      kind: 'missing-checkpoint',
      problem:
        `${named}: one is due every ${every} entries, and checkpoint ${sequence} was signed after ` +
        `${previous === 0 ? 'none' : `checkpoint ${previous}`}; it was deleted (and what it vouched for may be rewritten) or never signed`,
    });
  }
  return problems;
}

function headerKey(header: AuditHeaderLine | null): KeyObject | null {
  if (!header?.attestationPublicKey) return null;
  return readVerificationKey(Buffer.from(header.attestationPublicKey, 'utf8'));
}

/** Verifies the text of an export (JSON lines). Never throws on bad input: that is a problem in the report. */
export function verifyAuditLog(text: string, options: VerifyOptions = {}): AuditVerification {
  const problems: AuditProblem[] = [];
  const notes: string[] = [];
  let header: AuditHeaderLine | null = null;
  const entries: AuditEntry[] = [];
  const checkpoints: AuditCheckpoint[] = [];
  let statedPrune: AuditPrune | null = null;

  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    const lineNumber = index + 1;
    try {
      const parsed = parseLine(raw);
      if (parsed.type === 'header') {
        if (header || entries.length > 0 || checkpoints.length > 0)
          throw new MalformedLine('the header must be the first line, and only one');
        header = parsed.header;
      } else if (parsed.type === 'pruned') {
        if (!header || statedPrune || entries.length > 0 || checkpoints.length > 0)
          throw new MalformedLine('the pruned line must come right after the header, and only one');
        if ((header as AuditHeaderLine).format !== PRUNED_EXPORT_FORMAT)
          throw new MalformedLine(
            `a pruned line belongs in an export of format "${PRUNED_EXPORT_FORMAT}" only`,
          );
        statedPrune = parsed.prune;
      } else if (parsed.type === 'entry') entries.push(parsed.entry);
      else checkpoints.push(parsed.checkpoint);
    } catch (error) {
      if (!(error instanceof MalformedLine)) throw error;
      problems.push({ sequence: null, kind: 'malformed', problem: `line ${lineNumber}: ${error.message}` });
    }
  });
  const found = header as AuditHeaderLine | null;
  if (!found) problems.push({ sequence: null, kind: 'malformed', problem: 'the header line is missing' });
  else if (found.format === PRUNED_EXPORT_FORMAT && !statedPrune)
    problems.push({
      sequence: null,
      kind: 'malformed',
      problem: `an export of format "${PRUNED_EXPORT_FORMAT}" starts with a pruned line after the header`,
    });
  const chain = found?.chain ?? entries[0]?.chain ?? null;

  let key: KeyObject | null = options.publicKey ?? null;
  let keySource: AuditVerification['keySource'] = key ? 'given' : 'none';
  if (!key) {
    try {
      key = headerKey(found);
      if (key) {
        keySource = 'header';
        notes.push(
          'checkpoint signatures were checked with the key in the file’s own header: this proves the log is ' +
            'intact against that key only; give the partition’s attestation key (or certificate) from a trusted source',
        );
      }
    } catch (error) {
      problems.push({
        sequence: null,
        kind: 'malformed',
        problem: `the header's attestationPublicKey: ${(error as Error).message}`,
      });
    }
  } else if (found?.attestationPublicKey) {
    try {
      if (!headerKey(found)!.equals(key))
        notes.push('the header names a different attestation key than the one given');
    } catch {
      notes.push('the header’s attestation key does not parse');
    }
  }
  if (!key) {
    notes.push(
      'no attestation key: only the hash chain was checked; nothing proves who wrote it (the service chain is unsigned)',
    );
  }

  const stated = statedPrune as AuditPrune | null;
  for (const item of [...(stated ? [stated] : []), ...entries, ...checkpoints]) {
    if (chain !== null && item.chain !== chain) {
      problems.push({
        sequence: item.sequence,
        kind: 'malformed',
        problem: `a line of chain "${item.chain}" in the log of chain "${chain}"`,
      });
    }
  }

  // a prune statement counts when its signature verifies (or, with no key at all, as the hashes alone can tell);
  // one that does not leaves the entries before it missing
  let prune: AuditPrune | null = null;
  if (stated) {
    const problem = stated.chain === chain ? pruneProblem(stated, key) : null;
    if (problem) problems.push(problem);
    else if (stated.chain === chain) prune = stated;
  }
  if (prune) {
    notes.push(
      `entries 1–${prune.sequence - 1} were deleted by the audit log's retention on ${prune.at.toISOString()}: ` +
        'the log is checked from the entry the prune statement names; an export taken before then holds the rest',
    );
  }

  const present = new Set(entries.map((entry) => entry.sequence));
  const sequenceOfHash = new Map<string, number>();
  const bySequence = new Map<number, AuditEntry>();
  for (const entry of entries) {
    if (!sequenceOfHash.has(hex(entry.hash))) sequenceOfHash.set(hex(entry.hash), entry.sequence);
    if (!bySequence.has(entry.sequence)) bySequence.set(entry.sequence, entry);
  }

  let previous: AuditEntry | null = null;
  for (const entry of entries) {
    if (prune && entry.sequence < prune.sequence) {
      problems.push({
        sequence: entry.sequence,
        kind: 'malformed',
        problem: `entry ${entry.sequence} stands in a log that the prune statement says starts at entry ${prune.sequence}`,
      });
      continue;
    }
    const problem = entryProblem(entry, previous, present, sequenceOfHash, prune);
    if (problem) problems.push(problem);
    if (!previous || entry.sequence > previous.sequence) previous = entry;
  }

  // a signed prune statement vouches for the entry it names, as a checkpoint does
  let coveredThrough = prune && key && present.has(prune.sequence) ? prune.sequence : 0;
  const validCheckpoints: AuditCheckpoint[] = [];
  for (const checkpoint of checkpoints) {
    const problem = checkpointProblem(checkpoint, bySequence.get(checkpoint.sequence), key);
    if (problem) problems.push(problem);
    else if (key) {
      coveredThrough = Math.max(coveredThrough, checkpoint.sequence);
      validCheckpoints.push(checkpoint);
    }
  }
  if (key) {
    problems.push(...checkpointChainProblems(checkpoints, validCheckpoints, prune));
    const legacy = validCheckpoints.filter((checkpoint) => !checkpoint.link).length;
    if (legacy > 0)
      notes.push(
        `${legacy} checkpoint(s) are of version 1 (signed before checkpoints were linked): nothing shows ` +
          'whether a version-1 checkpoint was deleted before the first checkpoint of version 2 was signed',
      );
  }

  const last = previous?.sequence ?? 0;
  if (key && last > coveredThrough) {
    problems.push({
      sequence: coveredThrough + 1,
      kind: 'uncovered-tail',
      problem: `${range(coveredThrough + 1, last)} after the last valid checkpoint: no signature vouches for them`,
    });
  }
  if (entries.length === 0) notes.push('the log has no entries');

  // by sequence; an uncovered tail last, as it is often only the consequence of a problem named before it
  const order = (p: AuditProblem) => (p.kind === 'uncovered-tail' ? Number.MAX_VALUE : (p.sequence ?? -1));
  problems.sort((a, b) => order(a) - order(b));
  return {
    valid: problems.length === 0,
    chain,
    entries: entries.length,
    checkpoints: checkpoints.length,
    coveredThrough,
    startsAt: prune?.sequence ?? 1,
    keySource,
    notes,
    problems,
  };
}

/** A verification as a worker thread runs it: the key travels as DER SubjectPublicKeyInfo. */
export interface VerifyTask {
  text: string;
  publicKeySpki: Uint8Array | null;
}

export function runVerifyTask({ text, publicKeySpki }: VerifyTask): AuditVerification {
  const publicKey = publicKeySpki
    ? createPublicKey({ key: Buffer.from(publicKeySpki), format: 'der', type: 'spki' })
    : null;
  return verifyAuditLog(text, { publicKey });
}
