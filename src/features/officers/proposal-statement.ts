/**
 * The statement of a security officer proposal: the exact bytes the proposing officer signs, and that the
 * approving officer signs after "APPROVE:" (or rejects after "REJECT:"). It is canonical JSON (object keys
 * sorted, no whitespace, UTF-8) of exactly these members:
 *
 *   {"action":"SET_POLICY","nonce":"8f0c…","parameters":{"readOnly":true},"partition":"demo",
 *    "proposedAt":"2026-01-31T12:00:00Z"}
 *
 * Requiring the canonical form means there is one byte string per proposal, which an officer can write with
 * printf and sign with openssl (docs/security-officers.md).
 */
import { TsbError } from '../../errors.js';
import { DEFAULT_PARTITION_FLAGS, type PartitionFlags } from '../../keystore/partitions/partition-flags.js';
import { canonicalJson } from '../../lib/canonical-json.js';

export const PROPOSAL_ACTIONS = ['SET_POLICY', 'RESTORE_KEY', 'PURGE_KEY'] as const;
export type ProposalAction = (typeof PROPOSAL_ACTIONS)[number];

/** `keyId` is never in a statement: the service pins the trash-bin key the label names when it is proposed. */
export type ProposalParameters = Partial<PartitionFlags> | { label: string; keyId?: string };

export interface ProposalStatement {
  action: ProposalAction;
  parameters: ProposalParameters;
  /** the partition name the officer means; must be the caller's */
  partition: string;
  proposedAt: Date;
  nonce: string;
}

export const APPROVAL_PREFIX = 'APPROVE:';
export const REJECTION_PREFIX = 'REJECT:';

const MEMBERS = ['action', 'nonce', 'parameters', 'partition', 'proposedAt'];
const FLAG_NAMES = Object.keys(DEFAULT_PARTITION_FLAGS) as (keyof PartitionFlags)[];
const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const MAX_STATEMENT_BYTES = 4096;

/** What the approving officer signs: ASCII "APPROVE:" followed by the statement bytes. */
export const approvalToBeSigned = (statement: Uint8Array): Buffer =>
  Buffer.concat([Buffer.from(APPROVAL_PREFIX, 'ascii'), statement]);

/** What a rejecting officer signs: ASCII "REJECT:" followed by the statement bytes. */
export const rejectionToBeSigned = (statement: Uint8Array): Buffer =>
  Buffer.concat([Buffer.from(REJECTION_PREFIX, 'ascii'), statement]);

/** Parses and checks a statement; every problem is a 400 (600) naming what is wrong. */
export function parseStatement(bytes: Uint8Array): ProposalStatement {
  if (bytes.length === 0 || bytes.length > MAX_STATEMENT_BYTES) {
    return invalid(`must be 1 to ${MAX_STATEMENT_BYTES} bytes`);
  }
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    value = JSON.parse(text);
  } catch {
    return invalid('is not UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return invalid('is not a JSON object');
  const members = Object.keys(value).sort();
  if (members.join() !== MEMBERS.join())
    return invalid(`must have exactly the members ${MEMBERS.join(', ')}`);
  const canonical = canonicalJson(value);
  if (canonical !== text) {
    return invalid(
      `is not in canonical form (keys sorted, no whitespace); the canonical form is ${canonical}`,
    );
  }
  const { action, nonce, parameters, partition, proposedAt } = value as Record<string, unknown>;
  if (typeof action !== 'string' || !(PROPOSAL_ACTIONS as readonly string[]).includes(action)) {
    return invalid(`action must be one of ${PROPOSAL_ACTIONS.join(', ')}`);
  }
  if (typeof nonce !== 'string' || !NONCE_PATTERN.test(nonce)) {
    return invalid('nonce must be 16 to 128 letters, digits, "-" or "_" (e.g. openssl rand -hex 16)');
  }
  if (typeof partition !== 'string' || partition === '') return invalid('partition must name the partition');
  if (
    typeof proposedAt !== 'string' ||
    !TIME_PATTERN.test(proposedAt) ||
    Number.isNaN(Date.parse(proposedAt))
  ) {
    return invalid('proposedAt must be an ISO-8601 UTC time such as 2026-01-31T12:00:00Z');
  }
  return {
    action: action as ProposalAction,
    parameters: checkParameters(action as ProposalAction, parameters),
    partition,
    proposedAt: new Date(proposedAt),
    nonce,
  };
}

function checkParameters(action: ProposalAction, parameters: unknown): ProposalParameters {
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    return invalid('parameters must be a JSON object');
  }
  const entries = Object.entries(parameters);
  if (action === 'SET_POLICY') {
    if (entries.length === 0)
      return invalid(`SET_POLICY parameters name one or more of ${FLAG_NAMES.join(', ')}`);
    for (const [name, flag] of entries) {
      if (!(FLAG_NAMES as string[]).includes(name)) {
        return invalid(`SET_POLICY parameter "${name}" is not a policy flag (${FLAG_NAMES.join(', ')})`);
      }
      if (typeof flag !== 'boolean') return invalid(`SET_POLICY parameter "${name}" must be true or false`);
    }
    return parameters as Partial<PartitionFlags>;
  }
  const { label } = parameters as { label?: unknown };
  if (entries.length !== 1 || typeof label !== 'string' || label === '' || label.length > 150) {
    return invalid(`${action} parameters are exactly {"label": "<key label>"}`);
  }
  return { label };
}

function invalid(problem: string): never {
  throw new TsbError('INPUT_VALIDATION_FAILED', `the proposal statement ${problem}`);
}
