/**
 * The approver page checks the operation parameters digest (challenge item 0x7F06) with its own copy of
 * the rules (approver-checks.js, plain browser JavaScript with WebCrypto); these tests hold it to the
 * service's src/ska/operation-parameters.ts and src/lib/canonical-json.ts, so the two cannot drift.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TsbError } from '../../../src/errors.js';
// @ts-expect-error: plain JavaScript served to the browser, without type declarations
import * as page from '../../../src/features/approver-page/static/approver-checks.js';
import { canonicalJson } from '../../../src/lib/canonical-json.js';
import {
  CHALLENGE_TAG,
  type ChallengeContent,
  SKA_OPERATION_CODES,
  type SkaOperation,
} from '../../../src/ska/challenge.js';
import { encodeChallenge } from '../../../src/ska/challenge-encoder.js';
import { encodeTlvFrame } from '../../../src/ska/challenge-frame.js';
import { operationParameters, parametersDigest } from '../../../src/ska/operation-parameters.js';

type Request = Record<string, unknown>;
const sha256hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64');
const pageDigest = async (operation: string, request: unknown): Promise<string> =>
  Buffer.from(await page.parametersDigest(operation, request)).toString('hex');

const OPERATIONS = Object.keys(SKA_OPERATION_CODES) as SkaOperation[];

const CASES: Array<[string, SkaOperation, Request]> = [
  [
    'SIGN, defaults left out',
    'SIGN',
    { payload: b64('P'), signKeyName: 'k', signatureAlgorithm: 'SHA256_WITH_ECDSA' },
  ],
  [
    'SIGN, defaults null',
    'SIGN',
    { signatureAlgorithm: 'SHA256_WITH_ECDSA', signatureType: null, payloadType: null, context: null },
  ],
  [
    'SIGN, defaults written',
    'SIGN',
    {
      signatureAlgorithm: 'SHA256_WITH_ECDSA',
      signatureType: 'DER',
      payloadType: 'UNSPECIFIED',
      context: '',
    },
  ],
  ['SIGN, no algorithm', 'SIGN', {}],
  [
    'SIGN, other values',
    'SIGN',
    { signatureAlgorithm: 'NONE_WITH_ECDSA', signatureType: 'RAW', payloadType: 'ETH', context: b64('ctx') },
  ],
  ['SIGN, context with whitespace', 'SIGN', { signatureAlgorithm: 'ED25519', context: ' Y3R4\nLWxv bmc= ' }],
  ['SIGN, context of whitespace only', 'SIGN', { signatureAlgorithm: 'ED25519', context: ' \n ' }],
  ['SIGN, context with non-zero trailing bits', 'SIGN', { signatureAlgorithm: 'ED25519', context: 'QR==' }],
  ['SIGN, non-string values', 'SIGN', { signatureAlgorithm: 5, signatureType: true, payloadType: { a: 1 } }],
  [
    'SIGN, metadata and key password not bound',
    'SIGN',
    { signatureAlgorithm: 'SHA256_WITH_ECDSA', metaData: b64('m'), keyPassword: 'x' },
  ],
  [
    'DECRYPT, GCM with IV, AAD, default tagLength',
    'DECRYPT',
    {
      cipherAlgorithm: 'AES_GCM',
      initializationVector: b64(Buffer.alloc(12, 1)),
      additionalAuthenticationData: b64('aad'),
    },
  ],
  [
    'DECRYPT, tagLength 0',
    'DECRYPT',
    { cipherAlgorithm: 'AES_GCM', initializationVector: b64(Buffer.alloc(12, 1)), tagLength: 0 },
  ],
  [
    'DECRYPT, tagLength 96',
    'DECRYPT',
    { cipherAlgorithm: 'AES_GCM', initializationVector: b64(Buffer.alloc(12, 1)), tagLength: 96 },
  ],
  ['DECRYPT, tagLength as text', 'DECRYPT', { cipherAlgorithm: 'AES_GCM', tagLength: '96' }],
  [
    'DECRYPT, RSA without IV',
    'DECRYPT',
    { cipherAlgorithm: 'RSA_PADDING_OAEP_WITH_SHA256', initializationVector: null, tagLength: null },
  ],
  ['DECRYPT, empty AAD', 'DECRYPT', { cipherAlgorithm: 'AES_GCM', additionalAuthenticationData: '' }],
  [
    'UNWRAP, label and attributes',
    'UNWRAP',
    {
      wrappedKey: b64('w'),
      unwrapKeyName: 'kek',
      label: 'u1',
      wrapMethod: 'AES_WRAP',
      attributes: { decrypt: true, extractable: false, sensitive: true },
    },
  ],
  [
    'UNWRAP, attributes reordered',
    'UNWRAP',
    {
      label: 'u1',
      wrapMethod: 'AES_WRAP',
      attributes: { sensitive: true, extractable: false, decrypt: true },
      algorithm: null,
      policy: null,
    },
  ],
  [
    'UNWRAP, extractable',
    'UNWRAP',
    {
      label: 'u2',
      wrapMethod: 'AES_WRAP',
      attributes: { decrypt: true, extractable: true, sensitive: false },
    },
  ],
  [
    'UNWRAP, with a policy',
    'UNWRAP',
    {
      label: 'u3',
      wrapMethod: 'RSA_WRAP_OAEP',
      algorithm: 'EC',
      attributes: { sign: true, z: [3, { b: null, a: 'é' }], ä: 1, B: 2 },
      policy: {
        ruleUse: { tokens: [{ name: 'main', timelock: 0, groups: [{ quorum: 1, approvals: [] }] }] },
        keyStatus: null,
      },
    },
  ],
  ['UNWRAP, label beyond ASCII', 'UNWRAP', { label: 'p\u0430y\u202Ements \u{1F511}', attributes: null }],
  ['UNWRAP, attributes of another type', 'UNWRAP', { label: 'u4', attributes: 'text', policy: 7 }],
  ...OPERATIONS.filter((operation) => !['SIGN', 'DECRYPT', 'UNWRAP'].includes(operation)).map(
    (operation): [string, SkaOperation, Request] => [
      `${operation}, {}`,
      operation,
      { anything: 1, label: 'x' },
    ],
  ),
];

describe("the approver page's operation parameters digest agrees with the service's", () => {
  it.each(CASES)('%s', async (_name, operation, request) => {
    expect(await page.operationParameters(operation, request)).toEqual(
      operationParameters(operation, request),
    );
    expect(await pageDigest(operation, request)).toBe(parametersDigest(operation, request).toString('hex'));
  });

  it('the documented SIGN form, checked against node:crypto over the literal JSON', async () => {
    const json =
      '{"context":null,"payloadType":"UNSPECIFIED","signatureAlgorithm":"SHA256_WITH_ECDSA","signatureType":"DER"}';
    expect(await pageDigest('SIGN', { signatureAlgorithm: 'SHA256_WITH_ECDSA' })).toBe(sha256hex(json));
    const context = Buffer.from([0, 1, 2, 0xff]);
    expect(await page.operationParameters('SIGN', { context: b64(context) })).toMatchObject({
      context: sha256hex(context),
    });
    expect(await pageDigest('MODIFY', { anything: 1 })).toBe(sha256hex('{}'));
  });

  it('defaults: absent, null and the default give one digest; another value another', async () => {
    const base = { signatureAlgorithm: 'SHA256_WITH_ECDSA' };
    const digest = await pageDigest('SIGN', base);
    expect(await pageDigest('SIGN', { ...base, signatureType: 'DER', payloadType: null })).toBe(digest);
    expect(await pageDigest('SIGN', { ...base, signatureAlgorithm: 'SHA384_WITH_ECDSA' })).not.toBe(digest);
    const gcm = { cipherAlgorithm: 'AES_GCM' };
    expect(await pageDigest('DECRYPT', { ...gcm, tagLength: 128 })).toBe(await pageDigest('DECRYPT', gcm));
    expect(await pageDigest('DECRYPT', { ...gcm, tagLength: 96 })).not.toBe(await pageDigest('DECRYPT', gcm));
  });

  it.each([
    ['SIGN', 'context', 'not base64!'],
    ['SIGN', 'context', 'QQ='],
    ['DECRYPT', 'initializationVector', 'AAAA===='],
    ['DECRYPT', 'additionalAuthenticationData', 'YWFk-_'],
  ] as const)('%s with %s %j: both refuse it with the same message', async (operation, field, value) => {
    const request = { [field]: value };
    let serviceError: unknown;
    try {
      parametersDigest(operation, request);
    } catch (error) {
      serviceError = error;
    }
    expect(serviceError).toBeInstanceOf(TsbError);
    await expect(page.parametersDigest(operation, request)).rejects.toThrow(
      (serviceError as TsbError).message,
    );
  });

  it('any request: both give the same parameters and digest, or both refuse it alike', async () => {
    const base64 = fc.uint8Array({ maxLength: 40 }).map((bytes) => b64(Buffer.from(bytes)));
    const spaced = fc
      .tuple(base64, fc.nat(), fc.constantFrom(' ', '\n', '\t', '\r\n'))
      .map(
        ([text, at, space]) =>
          text.slice(0, at % (text.length + 1)) + space + text.slice(at % (text.length + 1)),
      );
    const anything = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.boolean(),
      base64,
      spaced,
      fc.jsonValue(),
    );
    const fields = [
      'signatureAlgorithm',
      'signatureType',
      'payloadType',
      'context',
      'cipherAlgorithm',
      'initializationVector',
      'tagLength',
      'additionalAuthenticationData',
      'label',
      'wrapMethod',
      'algorithm',
      'attributes',
      'policy',
      'payload',
    ];
    const request = fc.record(Object.fromEntries(fields.map((field) => [field, anything])), {
      requiredKeys: [],
    });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...OPERATIONS), request, async (operation, input) => {
        // as a request arrives: through JSON (no undefined members, -0 becomes 0)
        const sent = JSON.parse(JSON.stringify(input)) as Request;
        let expected: { parameters: unknown; digest: string } | { error: string };
        try {
          expected = {
            parameters: operationParameters(operation, sent),
            digest: parametersDigest(operation, sent).toString('hex'),
          };
        } catch (error) {
          expected = { error: (error as Error).message };
        }
        let actual: typeof expected;
        try {
          actual = {
            parameters: await page.operationParameters(operation, sent),
            digest: await pageDigest(operation, sent),
          };
        } catch (error) {
          actual = { error: (error as Error).message };
        }
        expect(actual).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('canonical JSON: the same text as src/lib/canonical-json.ts for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(page.canonicalJson(value)).toBe(canonicalJson(value));
      }),
      { numRuns: 500 },
    );
    const nested = { b: [{ d: 1, c: undefined, a: [] }], a: { é: 1, Z: 2, '10': 3, '9': 4 } };
    expect(page.canonicalJson(nested)).toBe(canonicalJson(nested));
    // members named __proto__ are members on both sides; numbers JSON cannot write are refused on both
    const proto = JSON.parse('{"b":{"__proto__":null},"__proto__":[1]}');
    expect(page.canonicalJson(proto)).toBe('{"__proto__":[1],"b":{"__proto__":null}}');
    expect(canonicalJson(proto)).toBe(page.canonicalJson(proto));
    const infinite = JSON.parse('{"a":[1e999]}');
    expect(() => page.canonicalJson(infinite)).toThrow(/no canonical form/);
    expect(() => canonicalJson(infinite)).toThrow(/no canonical form/);
  });
});

describe("the approver page's challenge decoder and the parameters digest", () => {
  const content: ChallengeContent = {
    operation: 'UNWRAP',
    keyLabel: 'kek',
    payloadDigest: Buffer.alloc(32, 0x11),
    keyId: 'a1b2c3d4-0000-4000-8000-000000000001',
    keyVersion: 7,
    parametersDigest: Buffer.alloc(32, 0x44),
    createdAt: new Date('2026-06-24T08:54:47Z'),
    requestId: '6947856a-e3a1-44cf-bb99-bbd2995642ca',
    nonce: null,
    ruleDigest: Buffer.alloc(32, 0x22),
    timestampKeyName: 'timestamp-key',
  };

  it('reads the 0x7F06 item the service encodes', () => {
    const decoded = page.decodeChallenge(encodeChallenge(content, null));
    expect(Buffer.from(decoded.parametersDigest)).toEqual(content.parametersDigest);
    expect(decoded.operation).toBe('UNWRAP');
  });

  it('refuses a challenge of the earlier form, without a parameters digest', () => {
    const u32 = (value: number) => Buffer.from(new Uint32Array([value]).buffer);
    const block = encodeTlvFrame([
      { tag: CHALLENGE_TAG.PAYLOAD_DIGEST, value: content.payloadDigest },
      { tag: CHALLENGE_TAG.KEY_ID, value: Buffer.from(content.keyId.replaceAll('-', ''), 'hex') },
      { tag: CHALLENGE_TAG.KEY_VERSION, value: u32(7) },
      { tag: CHALLENGE_TAG.REQUEST_ID, value: Buffer.from(content.requestId!.replaceAll('-', ''), 'hex') },
      { tag: CHALLENGE_TAG.CREATION_TIME, value: Buffer.alloc(8, 0) },
    ]);
    const earlier = encodeTlvFrame([
      { tag: CHALLENGE_TAG.OPERATION, value: u32(SKA_OPERATION_CODES.UNWRAP) },
      { tag: CHALLENGE_TAG.KEY_LABEL, value: Buffer.from('kek') },
      { tag: CHALLENGE_TAG.TIMESTAMP, value: block },
      { tag: CHALLENGE_TAG.PAYLOAD_DIGEST, value: content.payloadDigest },
    ]);
    expect(() => page.decodeChallenge(earlier)).toThrow('no operation parameters digest (tag 0x7f06)');
  });
});

describe("the approver page's review checks the request shown against the challenge's parameters", () => {
  const unwrap = {
    wrappedKey: b64('w'),
    unwrapKeyName: 'kek',
    label: 'u1',
    wrapMethod: 'AES_WRAP',
    attributes: { decrypt: true, extractable: false, sensitive: true },
  };
  const ECHO: Partial<Record<SkaOperation, [string, string]>> = {
    UNWRAP: ['signedUnwrapKeyRequest', 'unwrapKeyRequest'],
    DECRYPT: ['signedDecryptRequest', 'decryptRequest'],
  };
  const createdAt = new Date('2026-06-24T08:54:47Z');
  const requestId = '6947856a-e3a1-44cf-bb99-bbd2995642ca';
  const digest = createHash('sha256').update('w').digest();

  /** A level-5 style task of `operation` whose challenge binds `bound` and which shows `shown`. */
  const task = (operation: SkaOperation, bound: Request, shown: Request | null) => {
    const challenge = encodeChallenge(
      {
        operation,
        keyLabel: 'kek',
        payloadDigest: digest,
        keyId: 'a1b2c3d4-0000-4000-8000-000000000001',
        keyVersion: 1,
        parametersDigest: parametersDigest(operation, bound),
        createdAt,
        requestId,
        nonce: null,
        ruleDigest: Buffer.alloc(32, 0x22),
        timestampKeyName: 'timestamp-key',
      },
      null,
    );
    const [echo, wrapper] = ECHO[operation]!;
    return {
      id: 'task-1',
      requestId,
      operation,
      keyName: 'kek',
      createdAt: createdAt.toISOString(),
      expiresAt: null,
      approvalToBeSigned: b64(challenge),
      rejectionToBeSigned: b64(Buffer.concat([Buffer.from('REJECT:'), challenge])),
      payloadDigest: b64(digest),
      signedSignRequest: null,
      [echo]: shown === null ? null : { [wrapper]: shown, requestSignature: null },
    };
  };
  // no certificate chain here: those checks fail alike in every case, only the parameters differ
  const review = async (operation: SkaOperation, bound: Request, shown: Request | null) => {
    const result = await page.reviewTask(task(operation, bound, shown), {});
    const rows = new Map(result.rows.map(([label, value]: string[]) => [label, value]));
    return { rows, problems: result.problems as string[] };
  };
  const MISMATCH = 'the request shown does not have the operation parameters the challenge binds';

  it('the request the challenge binds: shown, VALID, no parameters problem', async () => {
    const { rows, problems } = await review('UNWRAP', unwrap, { ...unwrap, unwrapKeyPassword: 'x' });
    expect(rows.get('Operation parameters')).toBe(JSON.stringify(operationParameters('UNWRAP', unwrap)));
    expect(rows.get('Operation parameters check')).toBe('VALID');
    expect(problems).not.toContain(MISMATCH);
  });

  it.each([
    ['another label', { label: 'u2' }],
    ['extractable attributes', { attributes: { decrypt: true, extractable: true, sensitive: false } }],
    ['a policy', { policy: { ruleUse: null } }],
  ])('a request showing %s: INVALID, a problem', async (_name, change) => {
    const { rows, problems } = await review('UNWRAP', unwrap, { ...unwrap, ...change });
    expect(rows.get('Operation parameters check')).toBe('INVALID');
    expect(problems).toContain(MISMATCH);
  });

  it('a label with a bidi override is shown escaped', async () => {
    const hidden = { ...unwrap, label: 'u1\u202Egnp.exe' };
    const { rows, problems } = await review('UNWRAP', hidden, hidden);
    expect(rows.get('Operation parameters')).toContain('"label":"u1\\u202egnp.exe"');
    expect(problems).not.toContain(MISMATCH);
  });

  it('a binary field that is not base64: INVALID with the reason, a problem', async () => {
    const decrypt = { cipherAlgorithm: 'AES_GCM', initializationVector: b64(Buffer.alloc(12, 1)) };
    const { rows, problems } = await review('DECRYPT', decrypt, { ...decrypt, initializationVector: '***' });
    expect(rows.get('Operation parameters')).toBe('INVALID: initializationVector is not valid base64');
    expect(rows.get('Operation parameters check')).toBe('INVALID');
    expect(problems).toContain(MISMATCH);
  });

  it('a task that shows no request: a problem (the page always asks for level 5)', async () => {
    const { rows, problems } = await review('UNWRAP', unwrap, null);
    expect(rows.get('Operation parameters')).toBe('(the task shows no request)');
    expect(problems).toContain(
      'the task does not show the request, so its operation parameters cannot be checked',
    );
  });
});
