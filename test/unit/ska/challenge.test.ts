import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { children, decode, expectTag, readObjectIdentifier, TAG } from '../../../src/crypto/der.js';
import { TsbError } from '../../../src/errors.js';
import {
  CHALLENGE_TAG,
  type ChallengeContent,
  payloadDigest,
  ruleDigest,
  type SkaOperation,
} from '../../../src/ska/challenge.js';
import { decodeChallenge } from '../../../src/ska/challenge-decoder.js';
import {
  encodeChallenge,
  selfComputedChallenge,
  timestampBlock,
} from '../../../src/ska/challenge-encoder.js';
import { encodeTlvFrame, readTlvFrame, type TlvItem } from '../../../src/ska/challenge-frame.js';

const sample = (name: string): { tasks: { approvalToBeSigned: string; [field: string]: unknown }[] } =>
  JSON.parse(readFileSync(new URL(`../../fixtures/tsb-examples/${name}`, import.meta.url), 'utf8'));
const sampleChallenge = (name: string): Buffer =>
  Buffer.from(sample(name).tasks[0]!.approvalToBeSigned, 'base64');

function errorOf(fn: () => unknown): TsbError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TsbError) return err;
    throw new Error(`expected a TsbError, got ${String(err)}`);
  }
  throw new Error('expected a TsbError');
}

const OPERATIONS: SkaOperation[] = ['SIGN', 'BLOCK', 'UNBLOCK', 'MODIFY', 'UNWRAP', 'DECRYPT'];
/** The ECDSA-Sig-Value inside the 0x1056 item of sample 08 (a real HSM timestamp signature). */
const SAMPLE_08_ECDSA =
  '30440220033e78900c610b3144ea242275ee45b76d42275c87fc772f66c2cb1e27bbe824' +
  '02202b72a1e098e447e443ba060a969e31dcce944085e4c90e4eb9abe42f45796f9b';

const FULL: ChallengeContent = {
  operation: 'SIGN',
  keyLabel: 'key-1',
  payloadDigest: Buffer.alloc(32, 0x11),
  keyId: 'a1b2c3d4-0000-4000-8000-000000000001',
  keyVersion: 7,
  parametersDigest: Buffer.alloc(32, 0x44),
  createdAt: new Date('2020-06-24T08:54:47Z'),
  requestId: '6947856a-e3a1-44cf-bb99-bbd2995642ca',
  nonce: null,
  ruleDigest: Buffer.alloc(32, 0x22),
  timestampKeyName: 'timestamp-key',
};
const fullChallenge = () => encodeChallenge(FULL, Buffer.from(SAMPLE_08_ECDSA, 'hex'));

/** A frame whose length field is fixed up to whatever follows, so the reader gets past the first check. */
function reframed(body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length, 0);
  return Buffer.concat([length, body]);
}

describe('encodeChallenge: golden vector', () => {
  it('matches the layout byte for byte', () => {
    const hex = (...parts: string[]) => parts.join('');
    const digest = '11'.repeat(32);
    const block = hex(
      'bc000000', // inner length 188
      '017f2000',
      digest, // payload digest
      '047f1000',
      'a1b2c3d4000040008000000000000001', // key id
      '057f0400',
      '07000000', // key version 7
      '067f2000',
      '44'.repeat(32), // operation parameters digest
      '027f1000',
      '6947856ae3a144cfbb99bbd2995642ca', // request id
      '037f2000',
      '22'.repeat(32), // rule digest
      '07010800',
      'd714f35e00000000', // creation time 0x5ef314d7
      '02100d00',
      Buffer.from('timestamp-key').toString('hex'),
      '000000', // key name, 13 bytes + 3 padding
    );
    const signature = hex('3057', '300c06082a8648ce3d0403020500', '034700', SAMPLE_08_ECDSA);
    const expected = hex(
      '5c010000', // 348 bytes follow
      '3b000400',
      '01000000', // SIGN
      '02100500',
      Buffer.from('key-1').toString('hex'),
      '000000', // label, 5 bytes + 3 padding
      '5410c000',
      block, // timestamp container, 192 bytes
      '56105900',
      signature,
      '000000', // 89 bytes + 3 padding
      '017f2000',
      digest, // trailing payload digest
    );
    expect(fullChallenge().toString('hex')).toBe(expected);
    expect(timestampBlock(FULL).toString('hex')).toBe(block);
  });

  it('a self-computed challenge has a nonce, and no request id, rule digest, key name or signature', () => {
    const digest = '33'.repeat(32);
    const expected = [
      'c0000000', // 192 bytes follow
      '3b000400',
      '06000000', // DECRYPT
      '02100100',
      '6b000000', // label "k", 1 byte + 3 padding
      '54108800',
      '84000000',
      '017f2000',
      digest,
      '047f1000',
      'a1b2c3d4000040008000000000000001',
      '057f0400',
      '2a000000', // key version 42
      '067f2000',
      '55'.repeat(32), // operation parameters digest
      '077f1000',
      '66'.repeat(16), // nonce
      '07010800',
      '0000000000000000',
      '017f2000',
      digest,
    ].join('');
    const key = { label: 'k', id: 'a1b2c3d4-0000-4000-8000-000000000001', version: 42 };
    const challenge = selfComputedChallenge({
      operation: 'DECRYPT',
      key,
      payloadDigest: Buffer.alloc(32, 0x33),
      parametersDigest: Buffer.alloc(32, 0x55),
      createdAt: new Date(999),
      nonce: Buffer.alloc(16, 0x66),
    });
    expect(challenge.toString('hex')).toBe(expected);
  });

  it('a self-computed challenge gets a fresh random nonce when none is given', () => {
    const input = {
      operation: 'SIGN' as const,
      key: { label: 'k', id: FULL.keyId, version: 1 },
      payloadDigest: Buffer.alloc(32, 1),
      parametersDigest: Buffer.alloc(32, 2),
      createdAt: new Date(0),
    };
    const [one, two] = [selfComputedChallenge(input), selfComputedChallenge(input)];
    expect(one.equals(two)).toBe(false);
    expect(decodeChallenge(one).content.nonce).toHaveLength(16);
  });
});

describe('encodeChallenge / decodeChallenge round trip', () => {
  it.each(OPERATIONS)('%s with every optional item', (operation) => {
    const content = { ...FULL, operation };
    const decoded = decodeChallenge(encodeChallenge(content, Buffer.from(SAMPLE_08_ECDSA, 'hex')));
    expect(decoded.content).toEqual(content);
    expect(decoded.timestampBlock).toEqual(timestampBlock(content));
    expect(decoded.timestampSignature?.toString('hex')).toBe(SAMPLE_08_ECDSA);
  });

  it.each(OPERATIONS)('%s self-computed', (operation) => {
    const digest = payloadDigest(Buffer.from('payload'));
    const createdAt = new Date('2026-03-01T12:00:00Z');
    const key = { label: "wallet/44'/0'/0'", id: FULL.keyId, version: 3 };
    const parameters = payloadDigest(Buffer.from('{}'));
    const nonce = Buffer.alloc(16, 9);
    const decoded = decodeChallenge(
      selfComputedChallenge({
        operation,
        key,
        payloadDigest: digest,
        parametersDigest: parameters,
        createdAt,
        nonce,
      }),
    );
    expect(decoded.content).toEqual({
      operation,
      keyLabel: "wallet/44'/0'/0'",
      keyId: FULL.keyId,
      keyVersion: 3,
      payloadDigest: digest,
      parametersDigest: parameters,
      createdAt,
      requestId: null,
      nonce,
      ruleDigest: null,
      timestampKeyName: null,
    });
    expect(decoded.timestampSignature).toBeNull();
  });

  it('a container with a nonce instead of a request id (a pre-signed challenge with a rule digest)', () => {
    const content = { ...FULL, requestId: null, nonce: Buffer.alloc(16, 0xab) };
    expect(decodeChallenge(encodeChallenge(content, null)).content).toEqual(content);
  });

  it('floors the creation time to seconds and lower-cases the request id', () => {
    const decoded = decodeChallenge(
      encodeChallenge(
        {
          ...FULL,
          createdAt: new Date('2026-01-01T00:00:00.999Z'),
          requestId: FULL.requestId!.toUpperCase(),
        },
        null,
      ),
    );
    expect(decoded.content.createdAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(decoded.content.requestId).toBe(FULL.requestId);
  });

  it('keeps UTF-8 labels and a large P-521 sized signature', () => {
    const signature = Buffer.concat([
      Buffer.from('308188', 'hex'),
      Buffer.from([0x02, 0x42, 0x01, ...Buffer.alloc(65, 7)]),
      Buffer.from([0x02, 0x42, 0x01, ...Buffer.alloc(65, 9)]),
    ]);
    const content = { ...FULL, keyLabel: 'clé-ключ-🔑' };
    const decoded = decodeChallenge(encodeChallenge(content, signature));
    expect(decoded.content.keyLabel).toBe('clé-ключ-🔑');
    expect(decoded.timestampSignature).toEqual(signature);
  });
});

describe('the TSB samples keep the same frame', () => {
  it('sample 08 (sign): items 0x003B, 0x1002, 0x1054, 0x1056, 0x1057', () => {
    const items = readTlvFrame(sampleChallenge('08-filtered-sign-approval-task-response-level1.json'));
    expect(items.map((item) => item.tag)).toEqual([0x003b, 0x1002, 0x1054, 0x1056, 0x1057]);
    const [operation, label, container, signature, payload] = items as [
      TlvItem,
      TlvItem,
      TlvItem,
      TlvItem,
      TlvItem,
    ];
    expect(operation.value.readUInt32LE(0)).toBe(1);
    expect(label.value.toString('utf8')).toBe('TSB_TUTORIAL_1-RSA');
    expect(payload.value.toString('utf8')).toBe('ApproveSignTaskPayload');

    const inner = readTlvFrame(container.value);
    expect(inner.map((item) => item.tag)).toEqual([0x1057, 0x0107, 0x1002]);
    expect(inner[0]!.value).toEqual(payload.value);
    expect(new Date(Number(inner[1]!.value.readBigUInt64LE(0)) * 1000).toISOString()).toBe(
      '2020-06-24T08:54:47.000Z',
    );
    expect(inner[2]!.value.toString('utf8')).toBe('timestamp-key');

    // 0x1056 = SEQUENCE { AlgorithmIdentifier { ecdsa-with-SHA256, NULL }, BIT STRING (ECDSA-Sig-Value) }
    const der = signature.value;
    const [algorithm, bits] = children(expectTag(decode(der), TAG.SEQUENCE, 'SEQUENCE'));
    expect(algorithm!.tag).toBe(TAG.SEQUENCE);
    const [oid, parameters] = children(algorithm!);
    expect(readObjectIdentifier(oid!)).toBe('1.2.840.10045.4.3.2');
    expect(parameters!.tag).toBe(TAG.NULL);
    expect(bits!.tag).toBe(TAG.BIT_STRING);
    const ecdsa = Buffer.from(bits!.content.subarray(1));
    expect(ecdsa.toString('hex')).toBe(SAMPLE_08_ECDSA);
    expect(children(expectTag(decode(ecdsa), TAG.SEQUENCE, 'SEQUENCE')).map((part) => part.tag)).toEqual([
      TAG.INTEGER,
      TAG.INTEGER,
    ]);
  });

  it('our 0x1056 item is byte-identical to the TSB one for the same ECDSA signature', () => {
    const tsb = readTlvFrame(sampleChallenge('08-filtered-sign-approval-task-response-level1.json'));
    const ours = readTlvFrame(fullChallenge());
    const signatureOf = (items: TlvItem[]) =>
      items.find((item) => item.tag === CHALLENGE_TAG.TIMESTAMP_SIGNATURE);
    expect(signatureOf(ours)!.value).toEqual(signatureOf(tsb)!.value);
  });

  it('sample 21 (modify): items 0x003B, 0x1002, 0x1054, 0x1056, 0x1058 and the task fields match', () => {
    const task = sample('21-filtered-modify-task-response-level5.json').tasks[0]!;
    const items = readTlvFrame(Buffer.from(task.approvalToBeSigned, 'base64'));
    expect(items.map((item) => item.tag)).toEqual([0x003b, 0x1002, 0x1054, 0x1056, 0x1058]);
    expect(items[0]!.value.readUInt32LE(0)).toBe(4);
    expect(items[1]!.value.toString('utf8')).toBe('TESTKEY2024-08-14_20-02-48.72168016257020');
    expect(items[2]!.value).toEqual(Buffer.from(task['timestamp'] as string, 'base64'));
    expect(items[4]!.value).toEqual(Buffer.from(task['payload'] as string, 'base64'));
    const inner = readTlvFrame(items[2]!.value);
    expect(inner.map((item) => item.tag)).toEqual([0x1058, 0x0107, 0x1002]);
    expect(inner[2]!.value.toString('utf8')).toBe('test-timestamp-key');
    const der = items[3]!.value;
    const [, bits] = children(expectTag(decode(der), TAG.SEQUENCE, 'SEQUENCE'));
    expect(Buffer.from(bits!.content.subarray(1))).toEqual(
      Buffer.from(task['timestampSignature'] as string, 'base64'),
    );
  });

  it('decodeChallenge refuses the TSB samples: they carry the raw payload, not its digest', () => {
    for (const name of [
      '08-filtered-sign-approval-task-response-level1.json',
      '21-filtered-modify-task-response-level5.json',
    ]) {
      const err = errorOf(() => decodeChallenge(sampleChallenge(name)));
      expect(err.errorCode).toBe(600);
      expect(err.message).toMatch(/expected payload digest \(tag 0x7F01\), found TSB/);
    }
  });
});

describe('decodeChallenge refuses malformed input with 600 only', () => {
  const expect600 = (bytes: Uint8Array, message?: RegExp) => {
    const err = errorOf(() => decodeChallenge(bytes));
    expect(err.errorCode).toBe(600);
    if (message) expect(err.message).toMatch(message);
  };
  const valid = fullChallenge();
  const body = valid.subarray(4);

  it('truncated at every byte offset', () => {
    for (let length = 0; length < valid.length; length++) expect600(valid.subarray(0, length));
  });

  it('truncated at every byte offset with the length field fixed up', () => {
    for (let length = 0; length < body.length; length++) expect600(reframed(body.subarray(0, length)));
  });

  it('any single corrupted byte gives a TsbError or a (different) valid challenge, never another error', () => {
    for (let offset = 0; offset < valid.length; offset++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const corrupted = Buffer.from(valid);
        corrupted[offset]! ^= mask;
        try {
          decodeChallenge(corrupted);
        } catch (err) {
          expect(err).toBeInstanceOf(TsbError);
          expect((err as TsbError).errorCode).toBe(600);
        }
      }
    }
  });

  it('trailing bytes, with and without a matching length field', () => {
    expect600(Buffer.concat([valid, Buffer.alloc(4)]), /4 trailing bytes/);
    expect600(reframed(Buffer.concat([body, Buffer.alloc(4)])), /unexpected unknown tag 0x0000/);
  });

  it('non-zero padding', () => {
    const bad = Buffer.from(valid);
    bad[4 + 8 + 4 + 5] = 0x01; // first padding byte after the label "key-1"
    expect600(bad, /non-zero padding after label/);
  });

  it('empty input and non-bytes', () => {
    expect600(Buffer.alloc(0));
    expect600(null as unknown as Uint8Array);
    expect600('abc' as unknown as Uint8Array);
  });

  const item = (tag: number, value: Buffer | string): TlvItem => ({
    tag,
    value: typeof value === 'string' ? Buffer.from(value, 'hex') : value,
  });
  const digest = Buffer.alloc(32, 0x11);
  const inner = (...items: TlvItem[]) => encodeTlvFrame(items);
  const keyItems = [
    item(0x7f04, 'a1b2c3d4000040008000000000000001'),
    item(0x7f05, '01000000'),
    item(0x7f06, Buffer.alloc(32, 0x44)),
  ];
  const fresh = item(0x7f07, '66'.repeat(16));
  const goodInner = () => inner(item(0x7f01, digest), ...keyItems, fresh, item(0x0107, '0100000000000000'));
  const outer = (...items: TlvItem[]) => encodeTlvFrame(items);
  const op = item(0x003b, '01000000');
  const label = item(0x1002, Buffer.from('key'));
  const container = (value = goodInner()) => item(0x1054, value);
  const trailing = item(0x7f01, digest);

  it('the hand-built minimal challenge decodes (the cases below change one thing each)', () => {
    expect(decodeChallenge(outer(op, label, container(), trailing)).content.keyLabel).toBe('key');
  });

  it.each([
    [
      'a wrong operation length',
      () => outer(item(0x003b, '010000'), label, container(), trailing),
      /operation.*4 bytes/,
    ],
    [
      'an unknown operation code',
      () => outer(item(0x003b, '0a000000'), label, container(), trailing),
      /operation code 10/,
    ],
    ['a missing label', () => outer(op, container(), trailing), /expected label/],
    ['a label that is not UTF-8', () => outer(op, item(0x1002, 'ff'), container(), trailing), /UTF-8/],
    [
      'a duplicate operation',
      () => outer(op, op, label, container(), trailing),
      /expected label.*found operation/,
    ],
    ['items out of order', () => outer(label, op, container(), trailing), /expected operation/],
    [
      'an unknown tag',
      () => outer(op, label, item(0x7f09, 'aa'), container(), trailing),
      /unknown tag 0x7F09/,
    ],
    [
      'a raw TSB payload after the container',
      () => outer(op, label, container(), item(0x1057, 'aa')),
      /TSB raw/,
    ],
    [
      'a short trailing digest',
      () => outer(op, label, container(), item(0x7f01, digest.subarray(1))),
      /32 bytes/,
    ],
    [
      'a trailing digest that differs',
      () => outer(op, label, container(), item(0x7f01, Buffer.alloc(32))),
      /differs/,
    ],
    ['a missing trailing digest', () => outer(op, label, container()), /items end/],
    [
      'an item after the trailing digest',
      () => outer(op, label, container(), trailing, op),
      /unexpected operation/,
    ],
    [
      'a container with a bad inner length',
      () =>
        outer(
          op,
          label,
          container(Buffer.concat([Buffer.from('a0000000', 'hex'), goodInner().subarray(4)])),
          trailing,
        ),
      /timestamp container: truncated/,
    ],
    [
      'a container that is not a frame',
      () => outer(op, label, container(Buffer.from('00')), trailing),
      /timestamp container: truncated/,
    ],
    [
      'a short inner digest',
      () =>
        outer(
          op,
          label,
          container(inner(item(0x7f01, digest.subarray(2)), item(0x0107, '0100000000000000'))),
          trailing,
        ),
      /32 bytes/,
    ],
    [
      'a short request id',
      () =>
        outer(
          op,
          label,
          container(
            inner(
              item(0x7f01, digest),
              ...keyItems,
              item(0x7f02, 'aa'.repeat(15)),
              item(0x0107, '0100000000000000'),
            ),
          ),
          trailing,
        ),
      /16 bytes/,
    ],
    [
      'a short rule digest',
      () =>
        outer(
          op,
          label,
          container(
            inner(
              item(0x7f01, digest),
              ...keyItems,
              fresh,
              item(0x7f03, 'aa'),
              item(0x0107, '0100000000000000'),
            ),
          ),
          trailing,
        ),
      /32 bytes/,
    ],
    [
      'a short creation time',
      () =>
        outer(
          op,
          label,
          container(inner(item(0x7f01, digest), ...keyItems, fresh, item(0x0107, '01000000'))),
          trailing,
        ),
      /8 bytes/,
    ],
    [
      'a creation time beyond Date',
      () =>
        outer(
          op,
          label,
          container(inner(item(0x7f01, digest), ...keyItems, fresh, item(0x0107, 'ffffffffffffffff'))),
          trailing,
        ),
      /out of range/,
    ],
    [
      'a missing creation time',
      () => outer(op, label, container(inner(item(0x7f01, digest), ...keyItems, fresh)), trailing),
      /expected creation time/,
    ],
    [
      'rule digest before request id',
      () =>
        outer(
          op,
          label,
          container(
            inner(
              item(0x7f01, digest),
              ...keyItems,
              item(0x7f03, digest),
              item(0x7f02, 'aa'.repeat(16)),
              item(0x0107, '0100000000000000'),
            ),
          ),
          trailing,
        ),
      /exactly one of request id .* and nonce/,
    ],
    [
      'a nonce before the request id',
      () =>
        outer(
          op,
          label,
          container(
            inner(
              item(0x7f01, digest),
              ...keyItems,
              fresh,
              item(0x7f02, 'aa'.repeat(16)),
              item(0x0107, '0100000000000000'),
            ),
          ),
          trailing,
        ),
      /expected creation time \(tag 0x0107\), found request id/,
    ],
    [
      'both a request id and a nonce',
      () =>
        outer(
          op,
          label,
          container(
            inner(
              item(0x7f01, digest),
              ...keyItems,
              item(0x7f02, 'aa'.repeat(16)),
              fresh,
              item(0x0107, '0100000000000000'),
            ),
          ),
          trailing,
        ),
      /exactly one of request id .* and nonce/,
    ],
    [
      'neither a request id nor a nonce',
      () =>
        outer(
          op,
          label,
          container(inner(item(0x7f01, digest), ...keyItems, item(0x0107, '0100000000000000'))),
          trailing,
        ),
      /exactly one of request id .* and nonce/,
    ],
    [
      'a short nonce',
      () =>
        outer(
          op,
          label,
          container(
            inner(
              item(0x7f01, digest),
              ...keyItems,
              item(0x7f07, '66'.repeat(15)),
              item(0x0107, '0100000000000000'),
            ),
          ),
          trailing,
        ),
      /nonce \(tag 0x7F07\) must be 16 bytes/,
    ],
    [
      'a short operation parameters digest',
      () =>
        outer(
          op,
          label,
          container(
            inner(
              item(0x7f01, digest),
              keyItems[0]!,
              keyItems[1]!,
              item(0x7f06, 'aa'.repeat(31)),
              fresh,
              item(0x0107, '0100000000000000'),
            ),
          ),
          trailing,
        ),
      /operation parameters digest \(tag 0x7F06\) must be 32 bytes/,
    ],
    [
      'the earlier form, without operation parameters digest and nonce',
      () =>
        outer(
          op,
          label,
          container(
            inner(item(0x7f01, digest), keyItems[0]!, keyItems[1]!, item(0x0107, '0100000000000000')),
          ),
          trailing,
        ),
      /no operation parameters digest \(tag 0x7F06\).*earlier form.*no longer accepted/,
    ],
    [
      'a nonce where the operation parameters digest belongs',
      () =>
        outer(
          op,
          label,
          container(
            inner(item(0x7f01, digest), keyItems[0]!, keyItems[1]!, fresh, item(0x0107, '0100000000000000')),
          ),
          trailing,
        ),
      /no operation parameters digest \(tag 0x7F06\)/,
    ],
    [
      'a key name that is not UTF-8',
      () =>
        outer(
          op,
          label,
          container(
            inner(
              item(0x7f01, digest),
              ...keyItems,
              fresh,
              item(0x0107, '0100000000000000'),
              item(0x1002, 'c3'),
            ),
          ),
          trailing,
        ),
      /UTF-8/,
    ],
  ])('%s', (_name, build, message) => {
    expect600(build(), message);
  });

  const withSignature = (der: string) => outer(op, label, container(), item(0x1056, der), trailing);
  const algorithm = '300c06082a8648ce3d0403020500';
  it.each([
    ['not DER', '00', /timestamp signature/],
    ['a bare ECDSA-Sig-Value', SAMPLE_08_ECDSA, /AlgorithmIdentifier/],
    [
      'another algorithm (ecdsa-with-SHA384)',
      `3057300c06082a8648ce3d0403030500034700${SAMPLE_08_ECDSA}`,
      /not ecdsa-with-SHA256/,
    ],
    ['no NULL parameters', `3055300a06082a8648ce3d040302034700${SAMPLE_08_ECDSA}`, /ecdsa-with-SHA256, NULL/],
    ['unused bits in the BIT STRING', `3057${algorithm}034701${SAMPLE_08_ECDSA}`, /unused bits/],
    ['a BIT STRING that is not an ECDSA-Sig-Value', `3015${algorithm}0305000102ffff`, /timestamp signature/],
    ['a negative r', `301d${algorithm}030d00300a020580000000010201ff`, /ECDSA-Sig-Value/],
    ['trailing bytes after the SEQUENCE', `3057${algorithm}034700${SAMPLE_08_ECDSA}00`, /trailing/],
  ])('a timestamp signature with %s', (_name, der, message) => {
    expect600(withSignature(der), message);
  });
});

describe('encodeChallenge refuses content it cannot encode', () => {
  const codeOf = (content: Partial<ChallengeContent>, signature: Buffer | null = null) =>
    errorOf(() => encodeChallenge({ ...FULL, ...content }, signature)).errorCode;

  it('digests of the wrong size, bad dates, labels that do not fit, unknown operations: 600', () => {
    expect(codeOf({ payloadDigest: Buffer.alloc(31) })).toBe(600);
    expect(codeOf({ ruleDigest: Buffer.alloc(48) })).toBe(600);
    expect(codeOf({ parametersDigest: Buffer.alloc(31) })).toBe(600);
    expect(codeOf({ parametersDigest: undefined as unknown as Buffer })).toBe(600);
    expect(codeOf({ nonce: Buffer.alloc(16) })).toBe(600); // with a request id
    expect(codeOf({ requestId: null })).toBe(600); // neither request id nor nonce
    expect(codeOf({ requestId: null, nonce: Buffer.alloc(15) })).toBe(600);
    expect(codeOf({ createdAt: new Date(Number.NaN) })).toBe(600);
    expect(codeOf({ createdAt: new Date('1969-12-31T23:59:59Z') })).toBe(600);
    expect(codeOf({ keyLabel: 'x'.repeat(0x10000) })).toBe(600);
    expect(codeOf({ timestampKeyName: 'x'.repeat(0x10000) })).toBe(600);
    expect(codeOf({ operation: 'ENCRYPT' as SkaOperation })).toBe(600);
    expect(codeOf({}, Buffer.from('300602010102', 'hex'))).toBe(600);
  });

  it('a request id that is not a UUID: 609', () => {
    expect(codeOf({ requestId: 'not-a-uuid' })).toBe(609);
  });

  it('accepts the largest label that fits', () => {
    const decoded = decodeChallenge(encodeChallenge({ ...FULL, keyLabel: 'x'.repeat(0xffff) }, null));
    expect(decoded.content.keyLabel).toHaveLength(0xffff);
  });
});

describe('digests', () => {
  it('payloadDigest is SHA-256', () => {
    expect(payloadDigest(Buffer.from('abc')).toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('ruleDigest hashes canonical JSON: keys sorted recursively, no whitespace', () => {
    const rule = { tokens: [{ timeout: 0, name: 'T', groups: [{ quorum: 1, name: 'G', approvals: [] }] }] };
    const canonical =
      '{"tokens":[{"groups":[{"approvals":[],"name":"G","quorum":1}],"name":"T","timeout":0}]}';
    expect(ruleDigest(rule)).toEqual(createHash('sha256').update(canonical).digest());
    const reordered = {
      tokens: [{ groups: [{ approvals: [], name: 'G', quorum: 1 }], name: 'T', timeout: 0 }],
    };
    expect(ruleDigest(reordered)).toEqual(ruleDigest(rule));
    expect(ruleDigest({ ...rule, extra: undefined })).toEqual(ruleDigest(rule));
    expect(ruleDigest({ tokens: [] })).not.toEqual(ruleDigest(rule));
  });
});
