import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type AuditCheckpoint,
  type AuditEntry,
  type AuditPrune,
  type AuditRecord,
  chainRecords,
  checkpointHash,
  checkpointStatement,
  entryHash,
  GENESIS_HASH,
  pruneStatement,
} from '../../../src/features/audit/audit-chain.js';
import {
  checkpointLine,
  EXPORT_FORMAT,
  entryLine,
  PRUNED_EXPORT_FORMAT,
  parseLine,
  prunedLine,
} from '../../../src/features/audit/audit-lines.js';
import { readVerificationKey, verifyAuditLog } from '../../../src/features/audit/audit-verifier.js';

const CHAIN = '6a1f0c3e-2b7d-4e8a-9c5b-1d2e3f405162';
const attestation = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const publicPem = attestation.publicKey.export({ format: 'pem', type: 'spki' }).toString();

function records(count: number): AuditRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    chain: CHAIN,
    partitionId: CHAIN,
    at: new Date(Date.UTC(2026, 10, 29, 12, 0, i)),
    credentialId: `jwt:sub:user${i % 3}`,
    roles: ['keyOperation'],
    action: 'POST /v1/synchronousSign',
    keyLabel: `key-${i % 4}`,
    requestId: null,
    outcome: i % 5 === 0 ? 'failure' : 'success',
    statusCode: i % 5 === 0 ? 403 : 200,
    errorCode: i % 5 === 0 ? 620 : null,
  }));
}

function checkpointOf(entry: AuditEntry, key = attestation.privateKey): AuditCheckpoint {
  const unsigned = {
    chain: entry.chain,
    sequence: entry.sequence,
    hash: entry.hash,
    at: new Date(Date.UTC(2026, 10, 30)),
  };
  return { ...unsigned, signature: sign('sha256', checkpointStatement(unsigned), key) };
}

type Line = Record<string, unknown>;

/** An export as the service writes it: header, entries, a checkpoint after every `every` entries and at the end. */
function exportLines(entries: AuditEntry[], every = 4, checkpointKey = attestation.privateKey): Line[] {
  const lines: Line[] = [
    {
      type: 'header',
      format: EXPORT_FORMAT,
      chain: CHAIN,
      partition: { id: CHAIN, name: 'p' },
      attestationPublicKey: publicPem,
      attestationCertificate: null,
      exportedAt: '2026-11-30T00:00:00.000Z',
    },
  ];
  entries.forEach((entry, i) => {
    lines.push({ ...entryLine(entry) });
    if (entry.sequence % every === 0 || i === entries.length - 1)
      lines.push({ ...checkpointLine(checkpointOf(entry, checkpointKey)) });
  });
  return lines;
}

const text = (lines: Line[]) => lines.map((line) => `${JSON.stringify(line)}\n`).join('');
const entryAt = (lines: Line[], sequence: number) =>
  lines.find((line) => line['type'] === 'entry' && line['sequence'] === sequence)!;
const firstProblem = (lines: Line[], key = attestation.publicKey) =>
  verifyAuditLog(text(lines), { publicKey: key }).problems[0];

const ten = () => chainRecords({ sequence: 0, hash: GENESIS_HASH }, records(10));

describe('verifyAuditLog', () => {
  it('accepts an intact export and says how far the checkpoints vouch', () => {
    const report = verifyAuditLog(text(exportLines(ten())), { publicKey: attestation.publicKey });
    expect(report).toMatchObject({
      valid: true,
      chain: CHAIN,
      entries: 10,
      checkpoints: 3,
      coveredThrough: 10,
      keySource: 'given',
      problems: [],
    });
  });

  it('finds an edited entry (its hash no longer matches)', () => {
    const lines = exportLines(ten());
    entryAt(lines, 6)['outcome'] = 'success';
    expect(firstProblem(lines)).toMatchObject({ sequence: 6, kind: 'edited' });
  });

  it('finds a removed entry (a gap in the sequence)', () => {
    const lines = exportLines(ten()).filter((line) => line !== undefined);
    lines.splice(lines.indexOf(entryAt(lines, 3)), 1);
    expect(firstProblem(lines)).toMatchObject({ sequence: 3, kind: 'removed' });
  });

  it('finds entries moved in the file', () => {
    const lines = exportLines(ten());
    const [a, b] = [lines.indexOf(entryAt(lines, 2)), lines.indexOf(entryAt(lines, 3))];
    [lines[a], lines[b]] = [lines[b]!, lines[a]!];
    const report = verifyAuditLog(text(lines), { publicKey: attestation.publicKey });
    expect(report.problems.map((p) => [p.sequence, p.kind])).toEqual([
      [2, 'reordered'],
      [3, 'reordered'],
    ]);
  });

  it('finds entries whose sequence numbers were swapped (as an UPDATE in the database would)', () => {
    const entries = ten();
    const [e5, e7] = [entries[4]!, entries[6]!];
    entries[4] = { ...e7, sequence: 5 };
    entries[6] = { ...e5, sequence: 7 };
    const report = verifyAuditLog(text(exportLines(entries)), { publicKey: attestation.publicKey });
    expect(report.valid).toBe(false);
    expect(report.problems[0]).toMatchObject({ sequence: 5, kind: 'reordered' });
  });

  it('finds a rewritten history whose hashes were all recomputed: the signed checkpoint disagrees', () => {
    const entries = ten();
    // the refused first request becomes a success, and every later hash is recomputed to match
    entries[0] = { ...entries[0]!, outcome: 'success', statusCode: 200, errorCode: null };
    for (let i = 0; i < entries.length; i++) {
      const prevHash = i === 0 ? GENESIS_HASH : entries[i - 1]!.hash;
      const linked = { ...entries[i]!, prevHash };
      entries[i] = { ...linked, hash: entryHash(linked) };
    }
    const honest = exportLines(ten());
    const forged = exportLines(entries).map((line) =>
      line['type'] === 'checkpoint'
        ? honest.find((h) => h['type'] === 'checkpoint' && h['sequence'] === line['sequence'])!
        : line,
    );
    expect(firstProblem(forged)).toMatchObject({ sequence: 4, kind: 'checkpoint-mismatch' });
  });

  it('finds a replaced entry whose own hash was recomputed (the next entry does not link to it)', () => {
    const entries = ten();
    const changed = { ...entries[3]!, keyLabel: 'other' };
    entries[3] = { ...changed, hash: entryHash(changed) };
    expect(firstProblem(exportLines(entries))).toMatchObject({ sequence: 4, kind: 'edited' });
  });

  it('finds a bad and a missing checkpoint signature', () => {
    const lines = exportLines(ten());
    const checkpoints = lines.filter((line) => line['type'] === 'checkpoint');
    const signature = Buffer.from(String(checkpoints[0]!['signature']), 'base64');
    signature[signature.length - 1]! ^= 1;
    checkpoints[0]!['signature'] = signature.toString('base64');
    checkpoints[1]!['signature'] = '';
    const report = verifyAuditLog(text(lines), { publicKey: attestation.publicKey });
    expect(report.problems.map((p) => [p.sequence, p.kind])).toEqual([
      [4, 'bad-signature'],
      [8, 'missing-signature'],
    ]);
    expect(report.coveredThrough).toBe(10);
  });

  it('reports entries after the last checkpoint as not covered', () => {
    const lines = exportLines(ten()).slice(0, -1);
    const report = verifyAuditLog(text(lines), { publicKey: attestation.publicKey });
    expect(report.coveredThrough).toBe(8);
    expect(report.problems).toEqual([expect.objectContaining({ sequence: 9, kind: 'uncovered-tail' })]);
  });

  it('reports a checkpoint whose entry was removed from the end', () => {
    const lines = exportLines(ten());
    lines.splice(lines.indexOf(entryAt(lines, 10)), 1);
    const report = verifyAuditLog(text(lines), { publicKey: attestation.publicKey });
    expect(report.problems.map((p) => [p.sequence, p.kind])).toEqual([
      [10, 'removed'],
      [9, 'uncovered-tail'],
    ]);
  });

  it('refuses checkpoints signed by another key, even when the header names that key', () => {
    const lines = exportLines(ten(), 4, stranger.privateKey);
    lines[0]!['attestationPublicKey'] = stranger.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const report = verifyAuditLog(text(lines), { publicKey: attestation.publicKey });
    expect(report.valid).toBe(false);
    expect(new Set(report.problems.map((p) => p.kind))).toEqual(new Set(['bad-signature', 'uncovered-tail']));
    expect(report.notes.join(' ')).toContain('different attestation key');
    // against the header's own key it is "valid", and the report says what that proves
    const selfSigned = verifyAuditLog(text(lines));
    expect(selfSigned).toMatchObject({ valid: true, keySource: 'header' });
    expect(selfSigned.notes.join(' ')).toContain('intact against that key only');
  });

  it('checks an unsigned (service) chain by its hashes only, and says so', () => {
    const lines = exportLines(ten()).filter((line) => line['type'] !== 'checkpoint');
    lines[0]!['attestationPublicKey'] = null;
    const report = verifyAuditLog(text(lines));
    expect(report).toMatchObject({ valid: true, keySource: 'none', coveredThrough: 0 });
    expect(report.notes.join(' ')).toContain('only the hash chain');
    entryAt(lines, 2)['action'] = 'GET /v1/key';
    expect(verifyAuditLog(text(lines)).problems[0]).toMatchObject({ sequence: 2, kind: 'edited' });
  });

  it('reports malformed lines and a missing header without throwing', () => {
    const lines = exportLines(ten()).slice(1);
    const report = verifyAuditLog(`${text(lines)}{not json\n{"type":"entry","sequence":"x"}\n`, {
      publicKey: attestation.publicKey,
    });
    expect(report.valid).toBe(false);
    expect(report.problems.filter((p) => p.kind === 'malformed').map((p) => p.problem)).toEqual([
      'line 14: not JSON',
      'line 15: "roles" must be an array of role names (non-empty, without ",")',
      'the header line is missing',
    ]);
  });

  it('refuses roles merged or split so that the joined field (and so the hash) stays the same', () => {
    const withRoles = (roles: string[][]) =>
      exportLines(
        chainRecords(
          { sequence: 0, hash: GENESIS_HASH },
          records(roles.length).map((record, i) => ({ ...record, roles: roles[i]! })),
        ),
      );
    const lines = withRoles([['keyManagement', 'securityOfficer'], []]);
    expect(verifyAuditLog(text(lines), { publicKey: attestation.publicKey }).valid).toBe(true);
    for (const [sequence, forged] of [
      [1, ['keyManagement,securityOfficer']],
      [2, ['']],
    ] as const) {
      const edited = structuredClone(lines);
      entryAt(edited, sequence)['roles'] = forged;
      const report = verifyAuditLog(text(edited), { publicKey: attestation.publicKey });
      expect(report.valid, JSON.stringify(forged)).toBe(false);
      expect(report.problems[0]).toMatchObject({ kind: 'malformed' });
    }
  });

  it('reads the verification key from PEM or DER, as a public key or a certificate', () => {
    const der = attestation.publicKey.export({ format: 'der', type: 'spki' });
    expect(readVerificationKey(Buffer.from(publicPem)).equals(attestation.publicKey)).toBe(true);
    expect(readVerificationKey(der).equals(attestation.publicKey)).toBe(true);
    expect(() => readVerificationKey(Buffer.from('nonsense'))).toThrow(/neither a public key/);
  });
});

/** Checkpoints of version 2, signed as the service does: each linked to the one before it. */
function linkedExport(
  entries: AuditEntry[],
  at: number[],
  options: { every?: number; legacy?: number[]; skip?: (sequence: number) => boolean } = {},
): Line[] {
  const every = options.every ?? 4;
  const signed = new Map<number, AuditCheckpoint>();
  const sequences = [...new Set([...(options.legacy ?? []), ...at])].sort((a, b) => a - b);
  for (const sequence of sequences) {
    const entry = entries[sequence - 1]!;
    if (options.legacy?.includes(sequence)) {
      signed.set(sequence, checkpointOf(entry));
      continue;
    }
    const previous = [...signed.values()]
      .filter((c) => c.sequence < sequence && !options.skip?.(c.sequence))
      .at(-1);
    const unsigned = {
      chain: entry.chain,
      sequence,
      hash: entry.hash,
      at: new Date(Date.UTC(2026, 11, 4, 0, 0, sequence)),
      link: {
        every,
        previousSequence: previous?.sequence ?? 0,
        previousHash: previous ? checkpointHash(previous) : GENESIS_HASH,
      },
    };
    signed.set(sequence, {
      ...unsigned,
      signature: sign('sha256', checkpointStatement(unsigned), attestation.privateKey),
    });
  }
  const lines = exportLines(entries).filter((line) => line['type'] !== 'checkpoint');
  const out: Line[] = [lines[0]!];
  for (const line of lines.slice(1)) {
    out.push(line);
    const checkpoint = signed.get(line['sequence'] as number);
    if (checkpoint) out.push({ ...checkpointLine(checkpoint) });
  }
  return out;
}

const verify = (lines: Line[]) => verifyAuditLog(text(lines), { publicKey: attestation.publicKey });

describe('linked checkpoints (version 2)', () => {
  it('accepts a chain with a checkpoint at every boundary, each linked to the one before', () => {
    const lines = linkedExport(ten(), [4, 8, 10]);
    expect(lines.at(-1)).toMatchObject({ type: 'checkpoint', version: 2, every: 4, previousSequence: 8 });
    expect(verify(lines)).toMatchObject({ valid: true, coveredThrough: 10, problems: [] });
  });

  it('names the missing checkpoints when the head was signed after all of them were deleted', () => {
    const report = verify(linkedExport(ten(), [10]));
    expect(report.valid).toBe(false);
    expect(report.problems).toEqual([
      {
        sequence: 4,
        kind: 'missing-checkpoint',
        problem: expect.stringContaining('no checkpoints at entries 4, 8: one is due every 4 entries'),
      },
    ]);
  });

  it('finds a checkpoint deleted from the middle (the next one was signed after it)', () => {
    const lines = linkedExport(ten(), [4, 8, 10]).filter(
      (line) => !(line['type'] === 'checkpoint' && line['sequence'] === 4),
    );
    expect(verify(lines).problems[0]).toMatchObject({ sequence: 4, kind: 'missing-checkpoint' });
  });

  it('finds a checkpoint replaced by another one validly signed for the same entry', () => {
    const entries = ten();
    const lines = linkedExport(entries, [4, 8, 10]);
    const index = lines.findIndex((line) => line['type'] === 'checkpoint' && line['sequence'] === 8);
    const again = linkedExport(entries, [4, 8]).find(
      (line) => line['type'] === 'checkpoint' && line['sequence'] === 8,
    )!;
    lines[index] = { ...again, at: '2026-12-05T00:00:00.000Z' };
    lines[index]!['signature'] = sign(
      'sha256',
      checkpointStatement({
        chain: CHAIN,
        sequence: 8,
        hash: entries[7]!.hash,
        at: new Date('2026-12-05T00:00:00.000Z'),
        link: {
          every: 4,
          previousSequence: 4,
          previousHash: Buffer.from(String(again['previousHash']), 'hex'),
        },
      }),
      attestation.privateKey,
    ).toString('base64');
    expect(verify(lines).problems).toEqual([
      expect.objectContaining({ sequence: 8, kind: 'broken-checkpoint-chain' }),
    ]);
  });

  it('accepts a head checkpoint that was signed before the periodic one below it was stored', () => {
    // 10 was linked to 4 while 8 was still being signed; 8 is there, so no checkpoint is missing
    expect(verify(linkedExport(ten(), [4, 8, 10], { skip: (s) => s === 8 })).valid).toBe(true);
  });

  it('accepts checkpoints of version 1 before the first of version 2, and says what that means', () => {
    const lines = linkedExport(ten(), [8, 10], { legacy: [4] });
    const report = verify(lines);
    expect(report).toMatchObject({ valid: true, coveredThrough: 10 });
    expect(report.notes.join(' ')).toContain('version 1');
    // the version-2 checkpoint still shows that the version-1 checkpoint it follows was deleted
    const without = lines.filter((line) => !(line['type'] === 'checkpoint' && line['sequence'] === 4));
    expect(verify(without).problems[0]).toMatchObject({ sequence: 4, kind: 'missing-checkpoint' });
  });

  it('refuses a linked checkpoint that names a later one as its predecessor', () => {
    const lines = linkedExport(ten(), [4, 8, 10]);
    const last = lines.at(-1)!;
    last['previousSequence'] = 10;
    expect(verify(lines).problems[0]).toMatchObject({ kind: 'malformed' });
  });
});

/**
 * A log the retention pruned at `prunedAt` (a checkpointed entry): the entries and checkpoints before it gone, a
 * prune statement signed by `key` after the header, and the header of the pruned format.
 */
function prunedExport(
  lines: Line[],
  prunedAt: number,
  options: { key?: KeyObject; edit?: (prune: AuditPrune) => AuditPrune } = {},
): Line[] {
  const anchor = lines.find((line) => line['type'] === 'checkpoint' && line['sequence'] === prunedAt)!;
  const parsed = parseLine(JSON.stringify(anchor));
  if (parsed.type !== 'checkpoint') throw new Error('no checkpoint at the prune point');
  const unsigned = {
    chain: CHAIN,
    sequence: prunedAt,
    hash: parsed.checkpoint.hash,
    checkpointHash: checkpointHash(parsed.checkpoint),
    at: new Date(Date.UTC(2027, 2, 1)),
  };
  const prune = {
    ...unsigned,
    signature: sign('sha256', pruneStatement(unsigned), options.key ?? attestation.privateKey),
  };
  const kept = lines
    .slice(1)
    .filter((line) => (line['sequence'] as number) >= prunedAt || line['type'] === 'header');
  return [
    { ...lines[0]!, format: PRUNED_EXPORT_FORMAT },
    { ...prunedLine(options.edit ? options.edit(prune) : prune) },
    ...kept,
  ];
}

const twenty = () => chainRecords({ sequence: 0, hash: GENESIS_HASH }, records(20));
const withoutLine = (lines: Line[], type: string, sequence: number) =>
  lines.filter((line) => !(line['type'] === type && line['sequence'] === sequence));

describe('a log pruned by the retention', () => {
  const full = () => linkedExport(twenty(), [4, 8, 12, 16, 20]);

  it('verifies from the entry the signed prune statement names, and says what was deleted', () => {
    const lines = prunedExport(full(), 8);
    expect(lines[1]).toMatchObject({ type: 'pruned', version: 1, sequence: 8 });
    expect(lines[2]).toMatchObject({ type: 'entry', sequence: 8 });
    const report = verify(lines);
    expect(report).toMatchObject({ valid: true, startsAt: 8, entries: 13, coveredThrough: 20, problems: [] });
    expect(report.notes.join(' ')).toMatch(/entries 1–7 were deleted by the audit log's retention/);
  });

  it('still finds an entry or a checkpoint deleted after the prune point', () => {
    expect(verify(withoutLine(prunedExport(full(), 8), 'entry', 11)).problems[0]).toMatchObject({
      sequence: 11,
      kind: 'removed',
    });
    expect(verify(withoutLine(prunedExport(full(), 8), 'checkpoint', 12)).problems[0]).toMatchObject({
      sequence: 12,
      kind: 'missing-checkpoint',
    });
  });

  it('counts the deleted entries as removed when the prune statement is not signed by the attestation key', () => {
    const report = verify(prunedExport(full(), 8, { key: stranger.privateKey }));
    expect(report.valid).toBe(false);
    expect(report.startsAt).toBe(1);
    expect(report.problems.map((p) => [p.sequence, p.kind])).toEqual(
      expect.arrayContaining([
        [8, 'bad-signature'],
        [1, 'removed'],
      ]),
    );
  });

  it('refuses a prune statement moved further than it was signed for (to hide more entries)', () => {
    const lines = withoutLine(
      prunedExport(full(), 8, { edit: (prune) => ({ ...prune, sequence: 12 }) }),
      'entry',
      8,
    );
    const report = verify(
      lines.filter((line) => !((line['sequence'] as number) < 12 && line['type'] !== 'pruned')),
    );
    expect(report.valid).toBe(false);
    expect(report.problems[0]).toMatchObject({ kind: 'removed', sequence: 1 });
    expect(report.problems.map((p) => p.kind)).toContain('bad-signature');
  });

  it('finds the first kept entry replaced, even with its hash recomputed and all after it truncated', () => {
    // all that is left is the entry the statement names: nothing but the statement's hash can vouch for it
    const lines = prunedExport(full(), 8).slice(0, 3);
    const entry = entryAt(lines, 8);
    entry['outcome'] = 'failure';
    const parsed = parseLine(JSON.stringify(entry));
    if (parsed.type !== 'entry') throw new Error('not an entry');
    entry['hash'] = entryHash(parsed.entry).toString('hex');
    expect(verify(lines).problems[0]).toMatchObject({ sequence: 8, kind: 'edited' });
  });

  it('finds the checkpoint of the prune point deleted or replaced', () => {
    expect(verify(withoutLine(prunedExport(full(), 8), 'checkpoint', 8)).problems[0]).toMatchObject({
      sequence: 8,
      kind: 'missing-checkpoint',
    });
    const other = prunedExport(full(), 8, {
      edit: (prune) => {
        const unsigned = { ...prune, checkpointHash: Buffer.alloc(32, 7) };
        return { ...unsigned, signature: sign('sha256', pruneStatement(unsigned), attestation.privateKey) };
      },
    });
    expect(verify(other).problems[0]).toMatchObject({ sequence: 8, kind: 'broken-checkpoint-chain' });
  });

  it('refuses a pruned line outside a pruned export, and a pruned export without one', () => {
    const lines = prunedExport(full(), 8);
    const asOld = [{ ...lines[0]!, format: EXPORT_FORMAT }, ...lines.slice(1)];
    expect(verify(asOld).problems[0]).toMatchObject({ kind: 'malformed' });
    const withoutStatement = [lines[0]!, ...lines.slice(2)];
    expect(verify(withoutStatement).problems.map((p) => p.kind)).toEqual(
      expect.arrayContaining(['malformed', 'removed']),
    );
  });

  it('refuses entries before the prune point in a pruned export', () => {
    const pruned = prunedExport(full(), 8);
    const stray = entryAt(full(), 5);
    const report = verify([pruned[0]!, pruned[1]!, stray, ...pruned.slice(2)]);
    expect(report.problems[0]).toMatchObject({ sequence: 5, kind: 'malformed' });
  });
});
