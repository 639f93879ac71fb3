/**
 * `tsb approver …` through main() against the real service on a real port: keys made by `keygen` (EC
 * P-256, Ed25519, RSA, ML-DSA-65) go into SKA policies, `tasks` / `show` / `approve` / `reject` move
 * requests to EXECUTED and REJECTED. The key files are checked to be encrypted with the openssl CLI.
 */
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/api-keys.js';
import { b64, createSkaKey, requestStatus, signRequest, verifiesWithKey } from '../e2e/workflow/fixtures.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { waitForStatus } from '../helpers/approvers.js';
import { runTsb } from '../helpers/cli.js';
import { openssl } from '../helpers/openssl.js';

const PARTITION = 'approvers';
const PASSPHRASE = 'a long approver passphrase';
const TYPES = ['p256', 'ed25519', 'rsa', 'ml-dsa-65'] as const;

let ctx: TestContext;
let dir: string;
let env: Record<string, string>;
const publicKeys = new Map<string, string>();

const keyFile = (type: string) => path.join(dir, `${type}.key`);
const tsb = (...args: string[]) => runTsb(env, ...args);
const as = (type: string, ...args: string[]) => tsb(...args, '--key', keyFile(type));

async function succeeds(...args: string[]): Promise<string> {
  const run = await tsb(...args);
  expect(run.code, `tsb ${args.join(' ')}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

/** The one task `tasks` lists for the request; its fields as `tasks` prints them. */
async function taskOf(type: string, requestId: string): Promise<string[]> {
  const out = await succeeds('approver', 'tasks', '--key', keyFile(type), '--request', requestId);
  const rows = out
    .trim()
    .split('\n')
    .map((line) => line.split('\t'));
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

beforeAll(async () => {
  ctx = await createTestContext({ worker: true });
  const partition = await ctx.partition(PARTITION);
  const approverKey = (await createApiKey(ctx.prisma, partition.id, 'approver')).key;
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  dir = await mkdtemp(path.join(tmpdir(), 'opentsb-approver-cli-'));
  env = {
    TSB_URL: `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`,
    TSB_API_KEY: approverKey,
    TSB_APPROVER_PASSPHRASE: PASSPHRASE,
  };
  for (const type of TYPES) {
    const publicKey = (await succeeds('approver', 'keygen', '--type', type, '--out', keyFile(type))).trim();
    publicKeys.set(type, publicKey);
    await createSkaKey(ctx, PARTITION, `ska-${type}`, {
      ruleUse: {
        tokens: [
          {
            name: 'main',
            timelock: 0,
            timeout: 600,
            groups: [
              {
                name: 'approvers',
                quorum: 1,
                approvals: [{ type: 'public_key', name: type, value: publicKey }],
              },
            ],
          },
        ],
      },
    });
  }
}, 120_000);

afterAll(async () => {
  await ctx?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('tsb approver keygen: the private key stays encrypted on disk', () => {
  it.each(['p256', 'ed25519', 'rsa'])(
    '%s: encrypted PKCS#8 (scrypt) that openssl opens with the passphrase only',
    async (type) => {
      const text = await readFile(keyFile(type), 'utf8');
      expect(text).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
      expect(text).not.toContain('BEGIN PRIVATE KEY');
      expect((await stat(keyFile(type))).mode & 0o777).toBe(0o600);
      const structure = await openssl(['asn1parse', '-in', keyFile(type)]);
      expect(structure).toContain(':PBES2');
      expect(structure).toContain(':scrypt');
      expect(structure).toContain(':aes-256-cbc');
      // openssl, an independent implementation, decrypts it to the key whose public key keygen printed
      const spki = await openssl(['pkey', '-in', keyFile(type), '-passin', `pass:${PASSPHRASE}`, '-pubout']);
      const der = createPublicKey(spki).export({ format: 'der', type: 'spki' });
      expect(der.toString('base64')).toBe(publicKeys.get(type));
      await expect(
        openssl(['pkey', '-in', keyFile(type), '-passin', 'pass:not the passphrase', '-pubout']),
      ).rejects.toThrow();
    },
  );

  it('ml-dsa-65: a JSON envelope without the key seed in clear', async () => {
    const envelope = JSON.parse(await readFile(keyFile('ml-dsa-65'), 'utf8'));
    expect(envelope).toMatchObject({
      format: 'opentsb-approver-key',
      algorithm: 'ML-DSA-65',
      publicKey: publicKeys.get('ml-dsa-65'),
      kdf: { name: 'scrypt', N: 16384, r: 8, p: 1 },
      cipher: { name: 'aes-256-gcm' },
    });
    expect(Buffer.from(envelope.ciphertext, 'base64')).toHaveLength(32 + 16);
  });

  it.each(TYPES)('%s: pubkey with the passphrase; a wrong passphrase fails cleanly', async (type) => {
    expect((await as(type, 'approver', 'pubkey')).stdout.trim()).toBe(publicKeys.get(type));
    const wrong = await runTsb(
      { ...env, TSB_APPROVER_PASSPHRASE: 'not the passphrase' },
      'approver',
      'pubkey',
      '--key',
      keyFile(type),
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `tsb approver pubkey: cannot open ${keyFile(type)}: wrong passphrase, or the file is damaged\n`,
    );
    expect(wrong.stdout).toBe('');
  });

  it('reads the passphrase from --passphrase-file, never overwrites a key file, refuses plaintext keys', async () => {
    const passFile = path.join(dir, 'passphrase');
    await writeFile(passFile, `${PASSPHRASE}\n`);
    const viaFile = await runTsb(
      { TSB_URL: env['TSB_URL']! },
      'approver',
      'pubkey',
      '--key',
      keyFile('p256'),
      '--passphrase-file',
      passFile,
    );
    expect(viaFile.stdout.trim()).toBe(publicKeys.get('p256'));
    const again = await tsb('approver', 'keygen', '--type', 'p256', '--out', keyFile('p256'));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('exists; not overwritten');
    const plain = path.join(dir, 'plain.pem');
    await writeFile(
      plain,
      generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    const refused = await tsb('approver', 'pubkey', '--key', plain);
    expect(refused.stderr).toContain('unencrypted private key');
    const short = await runTsb(
      { TSB_APPROVER_PASSPHRASE: 'short' },
      'approver',
      'keygen',
      '--type',
      'p256',
      '--out',
      path.join(dir, 'x.key'),
    );
    expect(short.stderr).toContain('at least 8 characters');
  });
});

describe.each(TYPES)('tsb approver with a %s key', (type) => {
  const label = `ska-${type}`;

  it('lists, shows and approves: the request is EXECUTED and its signature verifies', async () => {
    const requestId = await signRequest(ctx, PARTITION, label, `pay 100 CHF (${type})`);
    const [taskId, listedRequest, operation, keyName] = await taskOf(type, requestId);
    expect([listedRequest, operation, keyName]).toEqual([requestId, 'SIGN', label]);

    const shown = await succeeds('approver', 'show', taskId!, '--key', keyFile(type));
    expect(shown).toMatch(/^operation +SIGN$/m);
    expect(shown).toMatch(new RegExp(`^key +${label} \\(uuid [0-9a-f-]{36}, version \\d+\\)$`, 'm'));
    expect(shown).toContain(`"pay 100 CHF (${type})"`);
    expect(shown).toMatch(/^payload digest check +VALID/m);
    expect(shown).toMatch(/^operation parameters +\{.*"signatureAlgorithm":"SHA256_WITH_ECDSA"/m);
    expect(shown).toMatch(/^operation parameters check +VALID/m);
    expect(shown).toMatch(/^challenge timestamp signature +VALID \(partition timestamp key/m);
    expect(shown).toMatch(/^key attributes signature +VALID/m);
    expect(shown).toMatch(/^certificate chain +VALID/m);
    expect(shown).toContain('verdict: every check passed');

    const approved = await succeeds('approver', 'approve', taskId!, '--key', keyFile(type));
    expect(approved).toContain(`approved task ${taskId}: SIGN with key ${label}`);
    const done = await waitForStatus(ctx, PARTITION, requestId, ['EXECUTED', 'FAILED']);
    expect(done['status']).toBe('EXECUTED');
    const signature = Buffer.from(String(done['result']), 'base64');
    expect(
      await verifiesWithKey(ctx, PARTITION, label, Buffer.from(`pay 100 CHF (${type})`), signature),
    ).toBe(true);
    expect(done['approvedBy']).toEqual([publicKeys.get(type)]);
    // the task is gone from the approver's list
    const after = await tsb('approver', 'tasks', '--key', keyFile(type), '--request', requestId);
    expect(after.stdout).toBe('');
  });

  it('rejects with a reason: the request is REJECTED and carries the reason', async () => {
    const requestId = await signRequest(ctx, PARTITION, label, 'pay 1,000,000 CHF');
    const [taskId] = await taskOf(type, requestId);
    const rejected = await succeeds(
      'approver',
      'reject',
      taskId!,
      '--key',
      keyFile(type),
      '--reason',
      'amount too high',
    );
    expect(rejected).toContain(`rejected task ${taskId}`);
    const done = await waitForStatus(ctx, PARTITION, requestId, ['REJECTED']);
    expect(done['rejections']).toEqual([
      { approverPublicKey: publicKeys.get(type), reason: 'amount too high' },
    ]);
  });
});

describe('tsb approver show and approve refuse what does not check out', () => {
  it('checks the metadata signature with --metadata-key: VALID with the application key, INVALID with another', async () => {
    const application = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const metaData = Buffer.from(JSON.stringify({ app: 'payments', invoice: 'INV-7' }));
    const requestId = await signRequest(ctx, PARTITION, 'ska-p256', 'pay 5 CHF', {
      metaData: b64(metaData),
      metaDataSignature: b64(sign('sha256', metaData, application.privateKey)),
    });
    const [taskId] = await taskOf('p256', requestId);
    const appKey = path.join(dir, 'application.pem');
    await writeFile(appKey, application.publicKey.export({ format: 'pem', type: 'spki' }));
    const otherKey = path.join(dir, 'other.pem');
    await writeFile(
      otherKey,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'pem', type: 'spki' }),
    );

    const unchecked = await succeeds('approver', 'show', taskId!, '--key', keyFile('p256'));
    expect(unchecked).toContain('"invoice": "INV-7"');
    expect(unchecked).toMatch(/^metadata signature +present, NOT CHECKED/m);
    const valid = await succeeds(
      'approver',
      'show',
      taskId!,
      '--key',
      keyFile('p256'),
      '--metadata-key',
      appKey,
    );
    expect(valid).toMatch(/^metadata signature +VALID \(application key\)$/m);
    const invalid = await succeeds(
      'approver',
      'show',
      taskId!,
      '--key',
      keyFile('p256'),
      '--metadata-key',
      otherKey,
    );
    expect(invalid).toMatch(/^metadata signature +INVALID$/m);
    expect(invalid).toContain('verdict: DO NOT APPROVE');

    const refused = await tsb(
      'approver',
      'approve',
      taskId!,
      '--key',
      keyFile('p256'),
      '--metadata-key',
      otherKey,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('not approved: the metadata signature does not verify');
    expect((await requestStatus(ctx, PARTITION, requestId)).status).toBe('PENDING');
  });

  it('pins the root certificate: a wrong --root-fingerprint is INVALID and nothing is signed', async () => {
    const requestId = await signRequest(ctx, PARTITION, 'ska-ed25519', 'pay 6 CHF');
    const [taskId] = await taskOf('ed25519', requestId);
    const shown = await succeeds('approver', 'show', taskId!, '--key', keyFile('ed25519'));
    const root = /root SHA-256 ([0-9a-f]{64})/.exec(shown)![1]!;
    const pinned = await succeeds(
      'approver',
      'show',
      taskId!,
      '--key',
      keyFile('ed25519'),
      '--root-fingerprint',
      root,
    );
    expect(pinned).toMatch(/^certificate chain +VALID \(root SHA-256 [0-9a-f]{64}, pinned\)$/m);
    const wrong = 'ab'.repeat(32);
    const refused = await tsb(
      'approver',
      'approve',
      taskId!,
      '--key',
      keyFile('ed25519'),
      '--root-fingerprint',
      wrong,
    );
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /^challenge timestamp signature +INVALID \(no trusted timestamp certificate\)$/m,
    );
    expect(refused.stdout).toContain('PROBLEM: the service root certificate is not the pinned one');
    expect((await requestStatus(ctx, PARTITION, requestId)).status).toBe('PENDING');
  });

  it('reports HTTP errors of the service: a wrong credential, an unknown task, an unreachable URL', async () => {
    const badKey = await runTsb(
      { ...env, TSB_API_KEY: 'not-a-key' },
      'approver',
      'tasks',
      '--key',
      keyFile('p256'),
    );
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/HTTP 401 \(errorCode \d+ /);
    const unknown = await tsb(
      'approver',
      'show',
      '00000000-0000-4000-8000-000000000000',
      '--key',
      keyFile('p256'),
    );
    expect(unknown.stderr).toContain(
      'no open task 00000000-0000-4000-8000-000000000000 for this approver key',
    );
    const missing = await runTsb({ ...env, TSB_API_KEY: '' }, 'approver', 'tasks', '--key', keyFile('p256'));
    expect(missing.stderr).toContain('an approver credential is needed');
    const down = await runTsb(
      { ...env, TSB_URL: 'http://127.0.0.1:9' },
      'approver',
      'tasks',
      '--key',
      keyFile('p256'),
    );
    expect(down.stderr).toContain('cannot reach http://127.0.0.1:9');
  });
});

describe('labels as approvers see them (issue 12, finding 8)', () => {
  it('tasks and show print a label with a bidi override or look-alike letters escaped, never raw', async () => {
    const rule = {
      tokens: [
        {
          name: 'main',
          timelock: 0,
          timeout: 600,
          groups: [
            { name: 'a', quorum: 1, approvals: [{ type: 'public_key', value: publicKeys.get('p256')! }] },
          ],
        },
      ],
    };
    // keys stored before labels were checked: one label holds U+202E, one a Cyrillic "а" (U+0430)
    const cases = [
      { legacy: 'pay\u202Etnuocca', shown: 'pay\\u202etnuocca' },
      { legacy: 'p\u0430yments', shown: 'p\u0430yments (as ASCII: p\\u0430yments)' },
    ];
    for (const [i, { legacy, shown }] of cases.entries()) {
      await createSkaKey(ctx, PARTITION, `legacy-${i}`, { ruleUse: rule });
      await ctx.prisma.key.updateMany({ where: { label: `legacy-${i}` }, data: { label: legacy } });
      const id = await signRequest(ctx, PARTITION, legacy);
      const [taskId, , , keyName] = await taskOf('p256', id);
      expect(keyName).toBe(shown);
      const show = await succeeds('approver', 'show', taskId!, '--key', keyFile('p256'));
      expect(show.split('\n').find((line) => line.startsWith('key '))).toContain(`${shown} (uuid`);
      expect(show).not.toContain('\u202E');
    }
  });
});
