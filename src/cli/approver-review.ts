/**
 * What an approver checks before signing, computed on the approver's side from the task (level 5)
 * and the partition's certificate chain, trusting neither the task's plain fields nor the service:
 * the challenge is decoded (docs/approval-challenge.md) and must agree with what the task shows, the
 * payload must hash to the challenge's digest, the request shown must have the operation parameters
 * the challenge binds, the challenge's timestamp signature must verify with
 * the partition timestamp certificate, and the key attribute statement with the attestation one.
 */
import { createHash, verify, X509Certificate } from 'node:crypto';
import { TsbError } from '../errors.js';
import { displayLabel, escapeForDisplay } from '../lib/display-text.js';
import { verifyApproverSignature } from '../ska/approval-signature.js';
import { parseApproverPublicKey } from '../ska/approver-key.js';
import type { DecodedChallenge } from '../ska/challenge.js';
import { decodeChallenge } from '../ska/challenge-decoder.js';
import { operationParameters, parametersDigest } from '../ska/operation-parameters.js';
import type { CertificateChain, Task } from './approver-client.js';

export interface ReviewOptions {
  /** SPKI DER of the application key that signs metaData (reference §1.2), if the approver has it */
  metadataKey?: Buffer;
  /** SHA-256 of the service root certificate (hex, colons allowed) the chain must end in */
  rootFingerprint?: string;
  now: Date;
}

export interface Review {
  /** label → value, in display order */
  lines: [string, string][];
  /** reasons not to approve; empty when every check passed */
  problems: string[];
  /** the challenge bytes the approver signs */
  challenge: Buffer;
  /** "REJECT:" ‖ challenge, the bytes a rejection signs */
  rejection: Buffer;
}

const VALID = 'VALID';
const INVALID = 'INVALID';

export function reviewTask(task: Task, chain: CertificateChain, options: ReviewOptions): Review {
  const lines: [string, string][] = [];
  const problems: string[] = [];
  const challenge = Buffer.from(task.approvalToBeSigned, 'base64');
  const rejection = Buffer.concat([Buffer.from('REJECT:', 'ascii'), challenge]);
  let decoded: DecodedChallenge;
  try {
    decoded = decodeChallenge(challenge);
  } catch (error) {
    const message = error instanceof TsbError ? error.message : String(error);
    return { lines: [['challenge', `${INVALID}: ${message}`]], problems: [message], challenge, rejection };
  }
  const content = decoded.content;
  const digestHex = content.payloadDigest.toString('hex');
  const expired = task.expiresAt !== null && Date.parse(task.expiresAt) <= options.now.getTime();

  lines.push(
    ['task', escapeForDisplay(task.id)],
    ['request', content.requestId ?? '(none)'],
    ['operation', content.operation],
    ['key', `${displayLabel(content.keyLabel)} (uuid ${content.keyId}, version ${content.keyVersion})`],
    ['created', content.createdAt.toISOString()],
    [
      'expires',
      task.expiresAt ? `${escapeForDisplay(task.expiresAt)}${expired ? ' (EXPIRED)' : ''}` : 'never',
    ],
    ['payload SHA-256', digestHex],
  );

  const mismatches = [
    ['operation', task.operation, content.operation],
    ['key name', task.keyName, content.keyLabel],
    ['request id', task.requestId, content.requestId],
    ['payload digest', Buffer.from(task.payloadDigest, 'base64').toString('hex'), digestHex],
    ['creation time', isoSecond(task.createdAt), content.createdAt.toISOString()],
  ].filter(([, shown, signed]) => shown !== signed);
  for (const [what, shown, signed] of mismatches) {
    const [a, b] = [shown, signed].map((text) => escapeForDisplay(String(text)));
    problems.push(`the task shows ${what} "${a}" but the challenge says "${b}"`);
  }
  if (!Buffer.from(task.rejectionToBeSigned, 'base64').equals(rejection)) {
    problems.push('rejectionToBeSigned is not "REJECT:" followed by the challenge');
  }

  if (typeof task.payload === 'string') {
    const payload = Buffer.from(task.payload, 'base64');
    const matches = sha256(payload).equals(content.payloadDigest);
    lines.push(['payload', describeBytes(payload)]);
    lines.push(['payload digest check', matches ? `${VALID} (SHA-256 of the payload)` : INVALID]);
    if (!matches) problems.push('the payload does not hash to the digest in the challenge');
  }

  reviewParameters(task, decoded, lines, problems);
  reviewMetadata(task, options, lines, problems);
  const certificates = reviewChain(chain, options, lines, problems);
  reviewKeyAttributes(task, content.keyId, certificates?.attestation ?? null, lines, problems);

  let timestampValid = false;
  if (decoded.timestampSignature && certificates) {
    timestampValid = verify(
      'sha256',
      decoded.timestampBlock,
      { key: certificates.timestamp.publicKey, dsaEncoding: 'der' },
      decoded.timestampSignature,
    );
  }
  lines.push([
    'challenge timestamp signature',
    timestampValid
      ? `${VALID} (partition timestamp key, ${certificates!.timestamp.subject.replaceAll('\n', ', ')})`
      : `${INVALID}${!decoded.timestampSignature ? ' (missing)' : certificates ? '' : ' (no trusted timestamp certificate)'}`,
  ]);
  if (!timestampValid) problems.push('the timestamp signature of the challenge does not verify');
  lines.push(['challenge matches the task', mismatches.length === 0 ? 'yes' : 'NO']);
  if (expired) problems.push(`the request expired at ${task.expiresAt}`);
  return { lines, problems, challenge, rejection };
}

/**
 * The request the task echoes (the review reads tasks at level 5) must have the operation parameters the
 * challenge binds; a task that shows no request cannot be checked, so it is not approved either.
 */
function reviewParameters(
  task: Task,
  decoded: DecodedChallenge,
  lines: [string, string][],
  problems: string[],
) {
  const request = echoedRequest(task);
  if (!request) {
    lines.push(['operation parameters', `${INVALID}: the task does not show the request`]);
    problems.push('the task does not show the request, so its operation parameters cannot be checked');
    return;
  }
  const { operation, parametersDigest: signed } = decoded.content;
  let matches = false;
  try {
    lines.push([
      'operation parameters',
      escapeForDisplay(JSON.stringify(operationParameters(operation, request))),
    ]);
    matches = parametersDigest(operation, request).equals(signed);
  } catch (error) {
    lines.push(['operation parameters', `${INVALID}: ${(error as Error).message}`]);
  }
  lines.push(['operation parameters check', matches ? `${VALID} (the digest in the challenge)` : INVALID]);
  if (!matches) problems.push('the request shown does not have the operation parameters the challenge binds');
}

/** The inner request of the task's `signed…Request` echo, e.g. `signedSignRequest.signRequest`. */
function echoedRequest(task: Task): Record<string, unknown> | null {
  for (const [field, value] of Object.entries(task)) {
    if (!field.startsWith('signed') || typeof value !== 'object' || value === null) continue;
    const inner = Object.entries(value).find(([name]) => name !== 'requestSignature')?.[1];
    if (typeof inner === 'object' && inner !== null) return inner as Record<string, unknown>;
  }
  return null;
}

function reviewMetadata(task: Task, options: ReviewOptions, lines: [string, string][], problems: string[]) {
  if (!task.metaData) {
    lines.push(['metadata', '(none)']);
    return;
  }
  const metadata = Buffer.from(task.metaData, 'base64');
  lines.push(['metadata', describeBytes(metadata)]);
  if (!task.metaDataSignature) {
    lines.push(['metadata signature', 'none provided']);
    return;
  }
  if (!options.metadataKey) {
    lines.push(['metadata signature', 'present, NOT CHECKED (give --metadata-key with the application key)']);
    return;
  }
  let valid: boolean;
  try {
    const key = parseApproverPublicKey(options.metadataKey, '--metadata-key');
    valid = verifyApproverSignature(key, metadata, Buffer.from(task.metaDataSignature, 'base64'), 'SHA-256');
  } catch (error) {
    valid = false;
    problems.push(`metadata key: ${(error as Error).message}`);
  }
  lines.push(['metadata signature', valid ? `${VALID} (application key)` : INVALID]);
  if (!valid) problems.push('the metadata signature does not verify with the application key');
}

interface ChainCertificates {
  attestation: X509Certificate;
  timestamp: X509Certificate;
}

function reviewChain(
  chain: CertificateChain,
  options: ReviewOptions,
  lines: [string, string][],
  problems: string[],
): ChainCertificates | null {
  let root: X509Certificate;
  let device: X509Certificate;
  let attestation: X509Certificate;
  let timestamp: X509Certificate;
  try {
    [root, device, attestation, timestamp] = [
      chain.root,
      chain.device,
      chain.attestation,
      chain.timestamp,
    ].map((pem) => new X509Certificate(pem)) as [
      X509Certificate,
      X509Certificate,
      X509Certificate,
      X509Certificate,
    ];
  } catch (error) {
    lines.push(['certificate chain', `${INVALID}: ${(error as Error).message}`]);
    problems.push('the partition certificate chain cannot be read');
    return null;
  }
  const chained =
    root.verify(root.publicKey) &&
    device.verify(root.publicKey) &&
    attestation.verify(device.publicKey) &&
    timestamp.verify(device.publicKey);
  const fingerprint = root.fingerprint256.replaceAll(':', '').toLowerCase();
  const pinned = options.rootFingerprint?.replaceAll(':', '').toLowerCase();
  const pinnedOk = pinned === undefined || pinned === fingerprint;
  lines.push([
    'certificate chain',
    `${chained && pinnedOk ? VALID : INVALID} (root SHA-256 ${fingerprint}${
      pinned === undefined
        ? ', not pinned: compare it out of band or give --root-fingerprint'
        : pinnedOk
          ? ', pinned'
          : `, expected ${pinned}`
    })`,
  ]);
  if (!chained) problems.push('the timestamp and attestation certificates do not chain to the root');
  if (!pinnedOk) problems.push('the service root certificate is not the pinned one');
  return chained && pinnedOk ? { attestation, timestamp } : null;
}

function reviewKeyAttributes(
  task: Task,
  keyId: string,
  attestation: X509Certificate | null,
  lines: [string, string][],
  problems: string[],
) {
  const xml = task.keyAttributes;
  if (typeof xml !== 'string') {
    lines.push(['key attributes', '(not available)']);
    return;
  }
  const field = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1] ?? null;
  const flags = /<attributes>([\s\S]*?)<\/attributes>/.exec(xml)?.[1] ?? '';
  const set = [...flags.matchAll(/<(\w+)>true<\/\1>/g)].map((match) => match[1]).join(', ');
  const algorithm = [field('algorithm'), field('key_size'), field('curve_oid')].filter(Boolean).join(' ');
  lines.push([
    'key attributes',
    `${algorithm}; ${set || 'no attribute set'}${xml.includes('<policy') ? '; SKA policy' : ''}`,
  ]);
  const uuid = field('uuid');
  if (uuid !== keyId)
    problems.push(`the key attributes are of key ${uuid}, the challenge names key ${keyId}`);
  const signature = task.keyAttributesSignature;
  const valid =
    attestation !== null &&
    typeof signature === 'string' &&
    verify('sha256', Buffer.from(xml, 'utf8'), attestation.publicKey, Buffer.from(signature, 'base64'));
  lines.push(['key attributes signature', valid ? `${VALID} (partition attestation key)` : INVALID]);
  if (!valid) problems.push('the key attribute statement does not verify with the attestation certificate');
}

/** Text when the bytes are printable UTF-8 (JSON pretty-printed), else their size and a hex preview. */
export function describeBytes(bytes: Buffer): string {
  const text = printableUtf8(bytes);
  if (text === null) {
    const hex = bytes.subarray(0, 32).toString('hex');
    return `${bytes.length} bytes, hex ${hex}${bytes.length > 32 ? '…' : ''}`;
  }
  try {
    const json: unknown = JSON.parse(text);
    if (typeof json === 'object' && json !== null) return JSON.stringify(json, null, 2);
  } catch {
    // not JSON: shown as text
  }
  return JSON.stringify(text.length > 500 ? `${text.slice(0, 500)}…` : text);
}

function printableUtf8(bytes: Buffer): string | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  // control and bidi characters (other than tab and line breaks) could disguise what is shown
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const control = code < 0x20 ? ![0x09, 0x0a, 0x0d].includes(code) : code >= 0x7f && code <= 0x9f;
    const bidi = (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
    if (control || bidi) return null;
  }
  return text;
}

const sha256 = (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

function isoSecond(text: string): string {
  const time = Date.parse(text);
  return Number.isNaN(time) ? text : new Date(Math.floor(time / 1000) * 1000).toISOString();
}
