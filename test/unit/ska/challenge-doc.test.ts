/** The worked example of docs/approval-challenge.md is what the code produces. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ruleDigest } from '../../../src/ska/challenge.js';
import { decodeChallenge } from '../../../src/ska/challenge-decoder.js';
import { selfComputedChallenge } from '../../../src/ska/challenge-encoder.js';

const doc = readFileSync(new URL('../../../docs/approval-challenge.md', import.meta.url), 'utf8');
const example = doc.slice(
  doc.indexOf('## Worked example'),
  doc.indexOf('## Differences from the TSB format'),
);
const blocks = [...example.matchAll(/```text\n([\s\S]*?)```/g)].map((match) => match[1]!);
const sha256 = (text: string) => createHash('sha256').update(text).digest();

const PARAMETERS =
  '{"context":null,"payloadType":"UNSPECIFIED","signatureAlgorithm":"SHA256_WITH_ECDSA","signatureType":"DER"}';
const KEY = { label: 'payments-key', id: '3c9d7e21-5b6a-4f80-9c1d-2e3f4a5b6c7d', version: 1 };
const CREATED = new Date('2026-03-01T12:00:00Z');

describe('docs/approval-challenge.md worked example', () => {
  it('the base64 challenge decodes to the fields the text names', () => {
    const { content, timestampSignature } = decodeChallenge(Buffer.from(blocks[1]!.trim(), 'base64'));
    expect(content).toEqual({
      operation: 'SIGN',
      keyLabel: KEY.label,
      keyId: KEY.id,
      keyVersion: 1,
      payloadDigest: sha256('Hello, approvers'),
      parametersDigest: sha256(PARAMETERS),
      createdAt: CREATED,
      requestId: '0b6c1f7e-3f4a-4c55-9d2e-8a1b2c3d4e5f',
      nonce: null,
      ruleDigest: ruleDigest({ tokens: [{ name: 'Token1', timelock: 0, timeout: 600, groups: [] }] }),
      timestampKeyName: 'timestamp-key',
    });
    expect(timestampSignature).not.toBeNull();
  });

  it('the self-computed challenge is byte for byte what selfComputedChallenge builds', () => {
    const hex = blocks[2]!.replace(/\s+/g, '');
    const built = selfComputedChallenge({
      operation: 'SIGN',
      key: KEY,
      payloadDigest: sha256('Hello, approvers'),
      parametersDigest: sha256(PARAMETERS),
      createdAt: CREATED,
      nonce: Buffer.from('00112233445566778899aabbccddeeff', 'hex'),
    });
    expect(hex).toBe(built.toString('hex'));
  });
});
