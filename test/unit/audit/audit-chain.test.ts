import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type AuditRecord,
  chainRecords,
  checkpointHash,
  checkpointStatement,
  encodeEntry,
  entryHash,
  GENESIS_HASH,
} from '../../../src/features/audit/audit-chain.js';

const CHAIN = '0b7e3c1a-4a4e-4c47-9a53-2f4f3c1d2e10';

const record: AuditRecord = {
  chain: CHAIN,
  partitionId: CHAIN,
  at: new Date('2026-11-29T11:22:00.123Z'),
  credentialId: 'apiKey:5f0c2a9e-1111-4222-8333-944455556666',
  roles: ['keyOperation'],
  action: 'POST /v1/synchronousSign',
  keyLabel: 'münz-key',
  requestId: null,
  outcome: 'failure',
  statusCode: 403,
  errorCode: 620,
};

// Known answers computed with the Python reference in docs/audit-log.md (an implementation independent of this one)
const ENCODING_HEX =
  '000000156f70656e7473622d61756469742d656e7472792f310000002430623765336331612d346134652d346334372d39613533' +
  '2d32663466336331643265313000000001310000002430623765336331612d346134652d346334372d396135332d326634663363' +
  '31643265313000000018323032362d31312d32395431313a32323a30302e3132335a0000002b6170694b65793a3566306332613965' +
  '2d313131312d343232322d383333332d3934343435353535363636360000000c6b65794f7065726174696f6e0000001850' +
  '4f5354202f76312f73796e6368726f6e6f75735369676e000000096dc3bc6e7a2d6b6579ffffffff000000076661696c7572650000' +
  '000334303300000003363230';
const HASH_HEX = 'b12381448666893a06ed79b34c762723c3b2fd9a5f1810635f1750e1e933dcc3';
const STATEMENT_HEX =
  '0000001a6f70656e7473622d61756469742d636865636b706f696e742f310000002430623765336331612d346134652d3463' +
  '34372d396135332d326634663363316432653130000000013100000020b12381448666893a06ed79b34c762723c3b2fd9a5f18' +
  '10635f1750e1e933dcc300000018323032362d31312d32395431313a32323a30312e3030305a';

const LINKED_STATEMENT_HEX =
  '0000001a6f70656e7473622d61756469742d636865636b706f696e742f320000002430623765336331612d346134652d3463' +
  '34372d396135332d3266346633633164326531300000000335313200000020b12381448666893a06ed79b34c762723c3b2fd9a' +
  '5f1810635f1750e1e933dcc300000018323032362d31312d32395431313a32323a30312e3030305a000000033235360000000332' +
  '3536000000201111111111111111111111111111111111111111111111111111111111111111';
const LINKED_STATEMENT_SHA256 = 'c5ef0186ea82f453a81e992342f8f0ca2f9a0cba60b82c1e8eb1ec0eccd45ba2';
const SUMMARY_HEX =
  '000000176f70656e7473622d61756469742d73756d6d6172792f3100000007736572766963650000000137ffffffff000000183230' +
  '32362d31312d32395431313a32323a30392e3939395affffffff00000000000000207265667573656420756e61757468656e7469' +
  '6361746564207265717565737473ffffffffffffffff000000076661696c757265000000033432390000000339303000000018' +
  '323032362d31312d32395431313a32323a30302e3030315a0000000b323030313a6462383a3a370000000434373131';

describe('audit chain encoding', () => {
  it('encodes an entry to the documented bytes and hashes SHA-256(prevHash ‖ encoding)', () => {
    const [entry] = chainRecords({ sequence: 0, hash: GENESIS_HASH }, [record]);
    expect(encodeEntry(entry!).toString('hex')).toBe(ENCODING_HEX);
    expect(entry!.prevHash).toEqual(Buffer.alloc(32));
    expect(entry!.hash.toString('hex')).toBe(HASH_HEX);
    expect(entry!.hash).toEqual(
      createHash('sha256').update(Buffer.alloc(32)).update(Buffer.from(ENCODING_HEX, 'hex')).digest(),
    );
  });

  it('builds the documented checkpoint statement', () => {
    const statement = checkpointStatement({
      chain: CHAIN,
      sequence: 1,
      hash: Buffer.from(HASH_HEX, 'hex'),
      at: new Date('2026-11-29T11:22:01.000Z'),
    });
    expect(statement.toString('hex')).toBe(STATEMENT_HEX);
  });

  it('builds the documented statement of a linked checkpoint (version 2) and its hash', () => {
    const checkpoint = {
      chain: CHAIN,
      sequence: 512,
      hash: Buffer.from(HASH_HEX, 'hex'),
      at: new Date('2026-11-29T11:22:01.000Z'),
      link: { every: 256, previousSequence: 256, previousHash: Buffer.alloc(32, 0x11) },
    };
    expect(checkpointStatement(checkpoint).toString('hex')).toBe(LINKED_STATEMENT_HEX);
    expect(checkpointHash(checkpoint).toString('hex')).toBe(LINKED_STATEMENT_SHA256);
  });

  it('encodes a summary of refused requests with its own domain and its three fields last', () => {
    const [summary] = chainRecords({ sequence: 6, hash: GENESIS_HASH }, [
      {
        chain: 'service',
        partitionId: null,
        at: new Date('2026-11-29T11:22:09.999Z'),
        credentialId: null,
        roles: [],
        action: 'refused unauthenticated requests',
        keyLabel: null,
        requestId: null,
        outcome: 'failure',
        statusCode: 429,
        errorCode: 900,
        summary: { firstAt: new Date('2026-11-29T11:22:00.001Z'), clientAddress: '2001:db8::7', count: 4711 },
      },
    ]);
    expect(encodeEntry(summary!).toString('hex')).toBe(SUMMARY_HEX);
  });

  it('links records after the head: sequences count on, each prevHash is the hash before', () => {
    const head = { sequence: 41, hash: Buffer.alloc(32, 7) };
    const entries = chainRecords(head, [record, record, record]);
    expect(entries.map((e) => e.sequence)).toEqual([42, 43, 44]);
    expect(entries[0]!.prevHash).toEqual(head.hash);
    expect(entries[1]!.prevHash).toEqual(entries[0]!.hash);
    expect(entries[2]!.prevHash).toEqual(entries[1]!.hash);
    for (const entry of entries) expect(entryHash(entry)).toEqual(entry.hash);
    // the same record at another place has another hash
    expect(new Set(entries.map((e) => e.hash.toString('hex'))).size).toBe(3);
  });

  it.each<[string, Partial<AuditRecord>, Partial<AuditRecord>]>([
    ['null and empty text', { keyLabel: null }, { keyLabel: '' }],
    ['moved field boundaries', { keyLabel: 'ab', requestId: 'c' }, { keyLabel: 'a', requestId: 'bc' }],
    ['role lists', { roles: ['approver', 'service'] }, { roles: ['approverservice'] }],
    ['no error code and 0', { errorCode: null }, { errorCode: 0 }],
    ['chains', { chain: 'a' }, { chain: 'b' }],
  ])('tells %s apart', (_name, left, right) => {
    const entry = (change: Partial<AuditRecord>) =>
      chainRecords({ sequence: 0, hash: GENESIS_HASH }, [{ ...record, ...change }])[0]!;
    expect(encodeEntry(entry(left))).not.toEqual(encodeEntry(entry(right)));
    expect(entry(left).hash).not.toEqual(entry(right).hash);
  });
});
