/**
 * Approver authentication for task listing (reference §4.2): the approver signs a fresh ISO-8601
 * timestamp with its key, and sends the timestamp, the signature, the digest name and its public key or
 * certificate. Here: the identity fields, the timestamp syntax, its freshness (404) and the signature (403).
 */
import { TsbError } from '../errors.js';
import { verifyApproverSignatureAsync } from './approval-signature.js';
import {
  type ApproverCertificateInfo,
  type ApproverKeyInfo,
  decodeBase64Strict,
  parseApproverCertificate,
  parseApproverPublicKey,
} from './approver-key.js';

/** How far a timestamp may lie before / after the server's time (TSB defaults: 600 s and 0 s). */
export interface FreshnessWindow {
  pastSeconds: number;
  futureSeconds: number;
}

export const DEFAULT_FRESHNESS_WINDOW: Readonly<FreshnessWindow> = { pastSeconds: 600, futureSeconds: 0 };

export interface ApproverIdentity {
  key: ApproverKeyInfo;
  certificate: ApproverCertificateInfo | null;
}

export interface TimestampProof {
  timestamp: string;
  timestampSignature: string;
  timestampDigestAlgorithm: string;
}

/** `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`, the forms the TSB samples and clients send. */
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/** Parses an ISO-8601 date-time with seconds and a zone; fractions beyond milliseconds are truncated. */
export function parseIsoTimestamp(text: string): Date {
  const match = typeof text === 'string' ? ISO_TIMESTAMP.exec(text) : null;
  if (!match) {
    throw invalid(
      `timestamp "${String(text)}" is not an ISO-8601 date-time with seconds and zone (e.g. 2023-10-30T17:30:24+00:00)`,
    );
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
  const milliseconds = Number((match[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offsetMinutes = match[8] ? 0 : zoneOffsetMinutes(match[9]!, match[10]!, match[11]!, text);
  const local = new Date(0);
  local.setUTCFullYear(year!, month! - 1, day!);
  local.setUTCHours(hour!, minute!, second!, milliseconds);
  const fieldsKept =
    local.getUTCFullYear() === year &&
    local.getUTCMonth() === month! - 1 &&
    local.getUTCDate() === day &&
    local.getUTCHours() === hour &&
    local.getUTCMinutes() === minute &&
    local.getUTCSeconds() === second;
  if (!fieldsKept) throw invalid(`timestamp "${text}" is not a valid date and time`);
  return new Date(local.getTime() - offsetMinutes * 60_000);
}

function zoneOffsetMinutes(sign: string, hours: string, minutes: string, text: string): number {
  if (Number(hours) > 23 || Number(minutes) > 59)
    throw invalid(`timestamp "${text}" has an invalid zone offset`);
  return (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes));
}

/**
 * Throws TIMESTAMP_OFF (404) unless `timestamp` lies within the window around `now`. The past bound is
 * exact; the future bound is compared in whole seconds, so a timestamp within the current second (a
 * client that rounds instead of truncating, or whose clock is a few hundred ms ahead) is not refused.
 */
export function checkTimestampFreshness(timestamp: Date, now: Date, window: FreshnessWindow): void {
  const earliest = now.getTime() - window.pastSeconds * 1000;
  const latestSecond = Math.floor(now.getTime() / 1000) + window.futureSeconds;
  const tooOld = timestamp.getTime() < earliest;
  const tooNew = Math.floor(timestamp.getTime() / 1000) > latestSecond;
  if (!tooOld && !tooNew) return;
  const offSeconds = Math.abs(timestamp.getTime() - now.getTime()) / 1000;
  throw new TsbError(
    'TIMESTAMP_OFF',
    `timestamp ${timestamp.toISOString()} is ${formatSeconds(offSeconds)} s in the ${tooOld ? 'past' : 'future'} ` +
      `of the server time ${now.toISOString()}; accepted: at most ${window.pastSeconds} s in the past and ` +
      `${window.futureSeconds} s in the future`,
  );
}

/**
 * The approver named by a request body: exactly one of `approverPublicKey` (base64 SPKI) and
 * `approverCertificate` (base64 DER). `where` prefixes messages (e.g. 'signedApprovals[1]').
 */
export function approverIdentity(
  input: { approverPublicKey?: string | null; approverCertificate?: string | null },
  where: string,
): ApproverIdentity {
  const keyText = input.approverPublicKey ?? null;
  const certificateText = input.approverCertificate ?? null;
  if ((keyText === null) === (certificateText === null)) {
    throw invalid(`${where}: exactly one of approverPublicKey and approverCertificate must be given`);
  }
  if (keyText !== null) {
    const field = `${where}.approverPublicKey`;
    const der = decodeBase64Field(keyText, field, 'KEY_INVALID_ENCODING');
    return { key: parseApproverPublicKey(der, field), certificate: null };
  }
  const field = `${where}.approverCertificate`;
  const certificate = parseApproverCertificate(
    decodeBase64Field(certificateText!, field, 'CERTIFICATE_INVALID_ENCODING'),
    field,
  );
  return { key: certificate, certificate };
}

/** notBefore ≤ at ≤ notAfter (RFC 5280: both bounds inclusive). */
export function certificateValidAt(
  certificate: Pick<ApproverCertificateInfo, 'notBefore' | 'notAfter'>,
  at: Date,
): boolean {
  const time = at.getTime();
  return Date.parse(certificate.notBefore) <= time && time <= Date.parse(certificate.notAfter);
}

/**
 * Checks a timestamp proof: syntax (600), freshness (404), then the signature over the UTF-8 bytes of
 * the timestamp text exactly as sent (403), in the thread pool under load. Returns the parsed time.
 */
export async function verifyTimestampProof(
  input: TimestampProof,
  signer: ApproverKeyInfo,
  now: Date,
  window: FreshnessWindow,
): Promise<Date> {
  const timestamp = parseIsoTimestamp(input.timestamp);
  checkTimestampFreshness(timestamp, now, window);
  const signature = decodeBase64Field(
    input.timestampSignature,
    'timestampSignature',
    'INPUT_VALIDATION_FAILED',
  );
  const data = Buffer.from(input.timestamp, 'utf8');
  if (!(await verifyApproverSignatureAsync(signer, data, signature, input.timestampDigestAlgorithm))) {
    throw new TsbError(
      'INVALID_SIGNATURE',
      `timestampSignature does not verify over the timestamp with the ${signer.keyAlgorithm} approver key`,
    );
  }
  return timestamp;
}

function decodeBase64Field(
  text: unknown,
  field: string,
  kind: 'KEY_INVALID_ENCODING' | 'CERTIFICATE_INVALID_ENCODING' | 'INPUT_VALIDATION_FAILED',
): Buffer {
  const bytes = typeof text === 'string' ? decodeBase64Strict(text) : null;
  if (!bytes) throw new TsbError(kind, `${field} is not standard base64`);
  return bytes;
}

const formatSeconds = (seconds: number): string => String(Math.round(seconds * 1000) / 1000);

const invalid = (message: string): TsbError => new TsbError('INPUT_VALIDATION_FAILED', message);
