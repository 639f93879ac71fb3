/**
 * The one domain error of OpenTSB. It carries the TSB business `errorCode` and `reason`
 * (reference §1.4); the HTTP status is derived from the code in exactly one table below.
 */
export const TSB_ERRORS = {
  TECHNICAL: { code: 1, reason: 'res.error.technical', status: 500 },
  CONNECTIVITY: { code: 2, reason: 'res.error.connectivity', status: 503 },
  NOT_IMPLEMENTED: { code: 101, reason: 'res.error.not.implemented', status: 501 },
  SECURITY_NOT_ALLOWED: { code: 400, reason: 'res.error.security.not.allowed', status: 403 },
  MISSING_APPROVAL: { code: 401, reason: 'res.error.missing.approval', status: 403 },
  INVALID_CERTIFICATE: { code: 402, reason: 'res.error.invalid.certificate', status: 400 },
  INVALID_SIGNATURE: { code: 403, reason: 'res.error.input.invalid.signature', status: 400 },
  TIMESTAMP_OFF: { code: 404, reason: 'res.error.input.timestamp.off', status: 401 },
  TIMESTAMP_SIGNER_NOT_ALLOWED: { code: 405, reason: 'res.error.timestamp.signer.not.allowed', status: 403 },
  MISSING_ACCESS_TOKEN: { code: 406, reason: 'res.error.missing.access.token', status: 401 },
  PARSING_KEY: { code: 407, reason: 'res.error.parsing.key', status: 400 },
  PARSING_CERTIFICATE: { code: 409, reason: 'res.error.parsing.certificate', status: 400 },
  DECRYPT_FAILED: { code: 410, reason: 'res.error.decrypt.failed', status: 400 },
  INVALID_CERTIFICATE_REQUEST: { code: 411, reason: 'res.error.invalid.certificate.request', status: 400 },
  CSR_INVALID_FORMAT: { code: 628, reason: 'res.error.csr.invalid.format', status: 400 },
  MISSING_API_KEY: { code: 416, reason: 'res.error.missing.api.key', status: 401 },
  INPUT_VALIDATION_FAILED: { code: 600, reason: 'res.error.input.validation.failed', status: 400 },
  UNSUPPORTED_APPROVER_KEY_TYPE: {
    code: 601,
    reason: 'res.error.unsupported.approver.key.type',
    status: 400,
  },
  UNSUPPORTED_APPROVAL_TYPES: {
    code: 602,
    reason: 'res.error.unsupported.combination.of.approval.types',
    status: 400,
  },
  INPUT_KEYSIZE: { code: 603, reason: 'res.error.input.keysize', status: 400 },
  NO_NAME_FOR_CERTIFICATE_APPROVER: {
    code: 604,
    reason: 'res.error.input.no.name.for.certificate.approver',
    status: 400,
  },
  KEY_ATTRIBUTES_INVALID: { code: 606, reason: 'res.error.key.attributes.invalid', status: 400 },
  ALGORITHM_NOT_SUPPORTED_BY_KEY: {
    code: 607,
    reason: 'res.error.algorithm.not.supported.by.key',
    status: 400,
  },
  KEY_ALREADY_EXISTING: { code: 608, reason: 'res.error.key.already.existing', status: 409 },
  INVALID_UUID: { code: 609, reason: 'res.error.invalid.uuid', status: 400 },
  INVALID_KEY_NAME: { code: 610, reason: 'res.error.invalid.key.name', status: 400 },
  UNSUPPORTED_OPERATION: { code: 611, reason: 'res.error.unsupported.operation', status: 400 },
  INVALID_PAYLOAD: { code: 612, reason: 'res.error.invalid.payload', status: 400 },
  INVALID_KEY_TYPE: { code: 613, reason: 'res.error.invalid.key.type', status: 400 },
  OPERATION_FORBIDDEN_FOR_KEY: { code: 614, reason: 'res.error.operation.forbidden.for.key', status: 403 },
  INVALID_ACCESS_TOKEN: { code: 617, reason: 'res.error.invalid.access.token', status: 401 },
  INSUFFICIENT_LOGIN_INFORMATION: {
    code: 618,
    reason: 'res.error.insufficient.login.information',
    status: 401,
  },
  INVALID_NUMBER_RANGE: { code: 619, reason: 'res.error.invalid.number.range', status: 400 },
  KEY_PASSWORD_MISMATCH: { code: 620, reason: 'res.error.key.password.mismatch', status: 403 },
  INVALID_JSON: { code: 621, reason: 'res.error.invalid.json', status: 400 },
  INVALID_TAG_LENGTH: { code: 624, reason: 'res.error.key.invalid.tagLength', status: 400 },
  KEY_INVALID_ENCODING: { code: 625, reason: 'res.error.key.invalid.encoding', status: 400 },
  CERTIFICATE_INVALID_ENCODING: { code: 626, reason: 'res.error.certificate.invalid.encoding', status: 400 },
  UNSUPPORTED_CIPHER: { code: 629, reason: 'res.error.unsupported.cipher', status: 400 },
  ADDRESS_ON_NON_SKA_KEY: { code: 630, reason: 'res.error.invalid.address.on.non.ska.key', status: 400 },
  INVALID_API_KEY: { code: 631, reason: 'res.error.invalid.api.key', status: 401 },
  DERIVATION_NOT_SUPPORTED: {
    code: 634,
    reason: 'res.error.derivation.not.supported.by.algorithm',
    status: 400,
  },
  HSM_INTEGRITY: { code: 701, reason: 'res.error.in.hsm', status: 500 },
  KEY_NOT_EXISTENT: { code: 650, reason: 'res.error.key.not.existent', status: 404 },
  REQUEST_NOT_EXISTENT: { code: 651, reason: 'res.error.request.not.existent', status: 404 },
  TASK_NOT_EXISTENT: { code: 652, reason: 'res.error.task.not.existent', status: 404 },
  APPROVER_NOT_EXISTENT: { code: 413, reason: 'res.error.approver.not.existent', status: 403 },
  REQUEST_NOT_OPEN: { code: 500, reason: 'res.error.data.invalid.constellation', status: 409 },
  TASK_ALREADY_DECIDED: { code: 500, reason: 'res.error.data.invalid.constellation', status: 409 },
  /** a security officer proposal that is no longer open, or whose nonce was used already */
  PROPOSAL_CONFLICT: { code: 500, reason: 'res.error.data.invalid.constellation', status: 409 },
  INVALID_VALUE_FOR_ENUM: { code: 501, reason: 'res.error.invalid.value.for.enum', status: 400 },
  PAYLOAD_TOO_LARGE: { code: 600, reason: 'res.error.input.validation.failed', status: 413 },
  UNSUPPORTED_MEDIA_TYPE: { code: 600, reason: 'res.error.input.validation.failed', status: 415 },
  URI_TOO_LONG: { code: 600, reason: 'res.error.input.validation.failed', status: 414 },
  ROUTE_NOT_FOUND: { code: 611, reason: 'res.error.unsupported.operation', status: 404 },
  NOT_FOUND: { code: 653, reason: 'res.error.data.object.not.existent', status: 404 },
  SERVICE_UNAVAILABLE: { code: 2, reason: 'res.error.connectivity', status: 503 },
  /** OpenTSB's own: the TSB names no code for a rate limit */
  RATE_LIMITED: { code: 900, reason: 'res.error.rate.limit.exceeded', status: 429 },
} as const satisfies Record<string, { code: number; reason: string; status: number }>;

export type TsbErrorName = keyof typeof TSB_ERRORS;

export class TsbError extends Error {
  override readonly name = 'TsbError';
  readonly errorCode: number;
  readonly reason: string;
  readonly statusCode: number;

  constructor(
    readonly kind: TsbErrorName,
    message: string,
  ) {
    super(message);
    const entry = TSB_ERRORS[kind];
    this.errorCode = entry.code;
    this.reason = entry.reason;
    this.statusCode = entry.status;
  }

  toBody(): TsbErrorBody {
    return { errorCode: this.errorCode, reason: this.reason, message: this.message };
  }
}

export interface TsbErrorBody {
  errorCode: number;
  reason: string;
  message: string;
}

export function tsbError(kind: TsbErrorName, message: string): TsbError {
  return new TsbError(kind, message);
}
