/**
 * `tsb approver keygen|pubkey|tasks|show|approve|reject`: an SKA approver on the command line. Unlike the
 * operator commands these never open the database: they talk HTTP to the service (--url) with an
 * approver credential, and sign with a key kept encrypted on disk (docs/approver-tools.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { displayLabel, escapeForDisplay } from '../lib/display-text.js';
import { ApproverClient, type ApproverCredential, type Task } from './approver-client.js';
import {
  APPROVER_KEY_TYPES,
  type ApproverKeyType,
  type ApproverSigner,
  generateApproverKeyFile,
  loadApproverKeyFile,
} from './approver-key-file.js';
import { type Review, reviewTask } from './approver-review.js';
import {
  CliError,
  type Command,
  type Options,
  type RunContext,
  requiredString,
  UsageError,
} from './command.js';

const DEFAULT_URL = 'http://127.0.0.1:8080';

const PASSPHRASE_OPTION: Options = {
  'passphrase-file': {
    type: 'string',
    description: 'file whose first line is the key passphrase (else TSB_APPROVER_PASSPHRASE)',
  },
};

const CONNECTION_OPTIONS: Options = {
  key: { type: 'string', description: 'the encrypted approver key file (else TSB_APPROVER_KEY)' },
  ...PASSPHRASE_OPTION,
  url: { type: 'string', description: `service URL (else TSB_URL, else ${DEFAULT_URL})` },
  'api-key': { type: 'string', description: 'approver API key, sent as X-API-KEY (else TSB_API_KEY)' },
  token: { type: 'string', description: 'approver bearer JWT instead of an API key (else TSB_TOKEN)' },
};

const REVIEW_OPTIONS: Options = {
  'metadata-key': {
    type: 'string',
    description: "the application's public key (PEM or DER SPKI) to check metaDataSignature",
  },
  'root-fingerprint': {
    type: 'string',
    description: 'SHA-256 (hex) of the service root certificate the chain must end in',
  },
};

const ENVIRONMENT =
  'Environment: TSB_URL, TSB_API_KEY or TSB_TOKEN (approver role), TSB_APPROVER_KEY, TSB_APPROVER_PASSPHRASE.\n' +
  'For an https URL with a private CA: NODE_EXTRA_CA_CERTS=ca.pem.';

function optionOrEnv(context: RunContext, option: string, variable: string): string | undefined {
  const value = context.values[option];
  if (typeof value === 'string' && value !== '') return value;
  const fromEnv = context.io.env[variable];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function passphrase(context: RunContext, command: string): string {
  const file = context.values['passphrase-file'];
  if (typeof file === 'string' && file !== '') {
    const first = readText(file, 'passphrase file').split(/\r?\n/)[0] ?? '';
    if (first === '') throw new CliError(`the passphrase file ${file} is empty`);
    return first;
  }
  const fromEnv = context.io.env['TSB_APPROVER_PASSPHRASE'];
  if (fromEnv) return fromEnv;
  throw new UsageError('give --passphrase-file FILE or set TSB_APPROVER_PASSPHRASE', command);
}

function signer(context: RunContext, command: string): ApproverSigner {
  const file = optionOrEnv(context, 'key', 'TSB_APPROVER_KEY');
  if (!file) throw new UsageError('give --key FILE or set TSB_APPROVER_KEY', command);
  return loadApproverKeyFile(readText(file, 'key file'), passphrase(context, command), file);
}

function client(context: RunContext, command: string): ApproverClient {
  const apiKey = optionOrEnv(context, 'api-key', 'TSB_API_KEY');
  const token = optionOrEnv(context, 'token', 'TSB_TOKEN');
  if (!apiKey && !token) {
    throw new UsageError(
      'an approver credential is needed: --api-key / TSB_API_KEY or --token / TSB_TOKEN',
      command,
    );
  }
  const url = optionOrEnv(context, 'url', 'TSB_URL') ?? DEFAULT_URL;
  if (!/^https?:\/\/[^\s/]+/.test(url)) throw new UsageError(`"${url}" is not an http(s) URL`, command);
  const credential: ApproverCredential = { ...(apiKey ? { apiKey } : {}), ...(token ? { token } : {}) };
  return new ApproverClient(url, credential, signer(context, command));
}

function metadataKey(context: RunContext): Buffer | undefined {
  const file = context.values['metadata-key'];
  if (typeof file !== 'string' || file === '') return undefined;
  const bytes = readFileSync(file);
  const pem = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(bytes.toString('latin1'));
  return pem ? Buffer.from(pem[1]!.replace(/\s/g, ''), 'base64') : bytes;
}

async function review(
  context: RunContext,
  command: string,
  approver: ApproverClient,
): Promise<Review & { task: Task }> {
  const taskId = context.positionals[0]!;
  const [task, chain] = await Promise.all([approver.task(taskId), approver.certificates()]);
  const key = metadataKey(context);
  const pin = optionOrEnv(context, 'root-fingerprint', 'TSB_ROOT_FINGERPRINT');
  if (pin !== undefined && !/^([0-9a-f]{2}:?){31}[0-9a-f]{2}$/i.test(pin)) {
    throw new UsageError('--root-fingerprint must be a SHA-256 in hex', command);
  }
  const result = reviewTask(task, chain, {
    now: new Date(),
    ...(key ? { metadataKey: key } : {}),
    ...(pin ? { rootFingerprint: pin } : {}),
  });
  return { ...result, task };
}

function printReview(context: RunContext, result: Review): void {
  const width = Math.max(...result.lines.map(([label]) => label.length));
  const pad = ' '.repeat(width + 2);
  const text = result.lines
    .map(([label, value]) => `${label.padEnd(width)}  ${value.split('\n').join(`\n${pad}`)}`)
    .join('\n');
  context.io.stdout(`${text}\n`);
  for (const problem of result.problems) context.io.stdout(`PROBLEM: ${problem}\n`);
  context.io.stdout(
    result.problems.length === 0 ? 'verdict: every check passed\n' : 'verdict: DO NOT APPROVE\n',
  );
}

export const APPROVER_COMMANDS: Command[] = [
  {
    name: 'approver keygen',
    usage: `tsb approver keygen --type ${APPROVER_KEY_TYPES.join('|')} --out FILE [--passphrase-file FILE]`,
    summary: 'create an approver key, encrypted on disk; prints its public key for a policy',
    details:
      'The public key printed (base64 SubjectPublicKeyInfo DER) is the "value" of a public_key approval in an\n' +
      'SKA policy. EC, Ed25519 and RSA (3072 bit) keys are written as encrypted PKCS#8 PEM (PBES2: scrypt,\n' +
      'AES-256-CBC; `openssl pkey -in FILE` opens them); ML-DSA keys as an AES-256-GCM/scrypt JSON envelope.\n' +
      'The file is created with mode 600 and never overwritten.',
    options: {
      type: { type: 'string', description: `key type: ${APPROVER_KEY_TYPES.join(', ')}` },
      out: { type: 'string', description: 'the key file to create' },
      ...PASSPHRASE_OPTION,
    },
    positionals: [],
    async run(context) {
      const command = 'approver keygen';
      const type = requiredString(context.values, 'type', command).toLowerCase();
      if (!(APPROVER_KEY_TYPES as readonly string[]).includes(type)) {
        throw new UsageError(`--type must be one of ${APPROVER_KEY_TYPES.join(', ')}`, command);
      }
      const out = requiredString(context.values, 'out', command);
      const { fileText, publicKey } = generateApproverKeyFile(
        type as ApproverKeyType,
        passphrase(context, command),
      );
      try {
        writeFileSync(out, fileText, { mode: 0o600, flag: 'wx' });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new CliError(
          code === 'EEXIST' ? `${out} exists; not overwritten` : `cannot write ${out}: ${code}`,
        );
      }
      context.io.stdout(`${publicKey}\n`);
      context.io.stderr(
        `approver key written to ${out} (encrypted); the public key above goes into the policy\n`,
      );
    },
  },
  {
    name: 'approver pubkey',
    usage: 'tsb approver pubkey --key FILE [--passphrase-file FILE]',
    summary: "print the approver key's public key (base64 SPKI DER)",
    options: { key: CONNECTION_OPTIONS['key']!, ...PASSPHRASE_OPTION },
    positionals: [],
    async run(context) {
      const key = signer(context, 'approver pubkey');
      context.io.stdout(`${key.publicKey}\n`);
      context.io.stderr(`${key.algorithm}\n`);
    },
  },
  {
    name: 'approver tasks',
    usage: 'tsb approver tasks [--request ID] [--key FILE] [--url URL] [--api-key KEY | --token JWT]',
    summary: "list the approver's open tasks: TASK_ID REQUEST_ID OPERATION KEY_NAME EXPIRES (tab-separated)",
    details: ENVIRONMENT,
    options: {
      ...CONNECTION_OPTIONS,
      request: { type: 'string', description: 'only the task of this request' },
    },
    positionals: [],
    async run(context) {
      const approver = client(context, 'approver tasks');
      const requestId = context.values['request'];
      const tasks = await approver.tasks(typeof requestId === 'string' ? { requestId } : {});
      for (const task of tasks) {
        const fields = [task.id, task.requestId, task.operation, task.keyName, task.expiresAt ?? 'never'];
        context.io.stdout(
          `${fields.map((field, i) => (i === 3 ? displayLabel : escapeForDisplay)(field)).join('\t')}\n`,
        );
      }
      if (tasks.length === 0) context.io.stderr('no open tasks\n');
    },
  },
  {
    name: 'approver show',
    usage:
      'tsb approver show TASK_ID [--metadata-key FILE] [--root-fingerprint HEX] [--key FILE] [--url URL] …',
    summary: 'show what a task asks to approve, with every check (VALID/INVALID)',
    details:
      'Decodes the challenge itself and checks it against the task, the payload against its digest, the\n' +
      "challenge's timestamp signature (partition timestamp certificate, GET /v1/attestation/certificates),\n" +
      'the signed key attributes and, with --metadata-key, the metadata signature. Exit status 0 either way.\n' +
      ENVIRONMENT,
    options: { ...CONNECTION_OPTIONS, ...REVIEW_OPTIONS },
    positionals: ['TASK_ID'],
    async run(context) {
      printReview(context, await review(context, 'approver show', client(context, 'approver show')));
    },
  },
  {
    name: 'approver approve',
    usage: 'tsb approver approve TASK_ID [--metadata-key FILE] [--root-fingerprint HEX] [--key FILE] …',
    summary: 'approve a task: runs the checks of `show`, then signs the challenge',
    details: `Refuses to sign when a check of \`tsb approver show\` fails.\n${ENVIRONMENT}`,
    options: { ...CONNECTION_OPTIONS, ...REVIEW_OPTIONS },
    positionals: ['TASK_ID'],
    async run(context) {
      const approver = client(context, 'approver approve');
      const result = await review(context, 'approver approve', approver);
      if (result.problems.length > 0) {
        printReview(context, result);
        throw new CliError(`not approved: ${result.problems[0]}`);
      }
      const { task } = result;
      await approver.approve(task, result.challenge);
      const line = (label: string) => result.lines.find(([name]) => name === label)?.[1] ?? '';
      context.io.stdout(
        `approved task ${task.id}: ${line('operation')} with key ${line('key')}, payload SHA-256 ${line('payload SHA-256')}\n`,
      );
    },
  },
  {
    name: 'approver reject',
    usage: 'tsb approver reject TASK_ID --reason TEXT [--key FILE] [--url URL] …',
    summary: 'reject a task with a reason (signs "REJECT:" followed by the challenge)',
    details: ENVIRONMENT,
    options: {
      ...CONNECTION_OPTIONS,
      reason: { type: 'string', description: 'why (at most 1024 characters), shown in the request status' },
    },
    positionals: ['TASK_ID'],
    async run(context) {
      const command = 'approver reject';
      const reason = requiredString(context.values, 'reason', command);
      if (reason.length > 1024) throw new UsageError('--reason is longer than 1024 characters', command);
      const approver = client(context, command);
      const task = await approver.task(context.positionals[0]!);
      const challenge = Buffer.from(task.approvalToBeSigned, 'base64');
      await approver.reject(task, Buffer.concat([Buffer.from('REJECT:', 'ascii'), challenge]), reason);
      const [id, operation] = [task.id, task.operation].map(escapeForDisplay);
      context.io.stdout(`rejected task ${id}: ${operation} with key ${displayLabel(task.keyName)}\n`);
    },
  },
];
