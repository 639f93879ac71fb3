/**
 * Pre-signed approvals for the synchronous endpoints (`signedApprovals: string[]`, format in
 * docs/approval-challenge.md "Pre-signed approvals"): each entry is standard base64 of the UTF-8 JSON
 * object with the field names of the POST /v1/approval body, around a self-computed challenge.
 * Decoding checks the form only; the HSM approval gate verifies the signature and what was approved.
 */
import { TsbError } from '../errors.js';
import { canonicalDigestAlgorithm } from './approval-signature.js';
import { decodeBase64Strict } from './approver-key.js';
import type { DecodedChallenge } from './challenge.js';
import { decodeChallenge } from './challenge-decoder.js';
import { type ApproverIdentity, approverIdentity } from './timestamp-proof.js';

export interface PresentedApproval {
  challenge: DecodedChallenge;
  challengeBytes: Buffer;
  signature: Buffer;
  /** Canonical spelling, e.g. 'SHA-256' (an entry of APPROVAL_DIGEST_ALGORITHMS). */
  digestAlgorithm: string;
  identity: ApproverIdentity;
}

export interface SignedApprovalFields {
  approvalToBeSigned: Buffer;
  signature: Buffer;
  approvalDigestAlgorithm: string;
  approverPublicKey?: Buffer;
  approverCertificate?: Buffer;
}

const FIELDS = [
  'approvalToBeSigned',
  'signature',
  'approvalDigestAlgorithm',
  'approverPublicKey',
  'approverCertificate',
] as const;

/**
 * Decodes one `signedApprovals` entry. Errors: 600 (entry not base64 / not a JSON object, missing,
 * unknown or mistyped fields, a challenge that does not decode, unknown digest name), 625 / 626 (key /
 * certificate not base64), 407 / 409 and 601 / 402 (key / certificate unusable); messages start with `where`.
 */
export function decodeSignedApproval(entry: string, where: string): PresentedApproval {
  const fields = parseEntry(entry, where);
  const challengeBytes = base64Field(fields, 'approvalToBeSigned', where);
  const signature = base64Field(fields, 'signature', where);
  const digestAlgorithm = withWhere(where, () =>
    canonicalDigestAlgorithm(textField(fields, 'approvalDigestAlgorithm', where)),
  );
  const challenge = withWhere(`${where}.approvalToBeSigned`, () => decodeChallenge(challengeBytes));
  const identity = approverIdentity(
    {
      approverPublicKey: optionalText(fields, 'approverPublicKey', where),
      approverCertificate: optionalText(fields, 'approverCertificate', where),
    },
    where,
  );
  return { challenge, challengeBytes, signature, digestAlgorithm, identity };
}

/** Builds one `signedApprovals` entry (exactly one of approverPublicKey / approverCertificate). */
export function encodeSignedApproval(fields: SignedApprovalFields): string {
  if ((fields.approverPublicKey === undefined) === (fields.approverCertificate === undefined)) {
    throw invalid('a signed approval needs exactly one of approverPublicKey and approverCertificate');
  }
  const json = {
    approvalToBeSigned: fields.approvalToBeSigned.toString('base64'),
    signature: fields.signature.toString('base64'),
    approvalDigestAlgorithm: fields.approvalDigestAlgorithm,
    approverPublicKey: fields.approverPublicKey?.toString('base64'),
    approverCertificate: fields.approverCertificate?.toString('base64'),
  };
  return Buffer.from(JSON.stringify(json), 'utf8').toString('base64');
}

function parseEntry(entry: unknown, where: string): Record<string, unknown> {
  const bytes = typeof entry === 'string' ? decodeBase64Strict(entry) : null;
  if (!bytes) throw invalid(`${where}: a signed approval must be standard base64 of a JSON object`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalid(`${where}: the base64-decoded signed approval is not UTF-8 JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid(`${where}: the signed approval must be a JSON object`);
  }
  const unknown = Object.keys(parsed).filter((name) => !(FIELDS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw invalid(`${where}: unknown field(s) ${unknown.join(', ')} (accepted: ${FIELDS.join(', ')})`);
  }
  return parsed as Record<string, unknown>;
}

function textField(fields: Record<string, unknown>, name: string, where: string): string {
  const value = fields[name];
  if (typeof value !== 'string') throw invalid(`${where}.${name} must be a string`);
  return value;
}

function optionalText(fields: Record<string, unknown>, name: string, where: string): string | null {
  return fields[name] === undefined || fields[name] === null ? null : textField(fields, name, where);
}

function base64Field(fields: Record<string, unknown>, name: string, where: string): Buffer {
  const bytes = decodeBase64Strict(textField(fields, name, where));
  if (!bytes) throw invalid(`${where}.${name} is not standard base64`);
  return bytes;
}

/** Re-raises a TsbError with `where` in front of its message. */
function withWhere<T>(where: string, work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof TsbError) throw new TsbError(err.kind, `${where}: ${err.message}`);
    throw err;
  }
}

const invalid = (message: string): TsbError => new TsbError('INPUT_VALIDATION_FAILED', message);
