/** SKA requests as the repository stores them, for tests of the workflow's statements. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { NewRequest } from '../../src/features/approvals/requests.repository.js';

/** A SIGN request of `partitionId` with a rule of one quorum, one task per fingerprint, and fresh random bytes. */
export function storedRequest(
  partitionId: string,
  options: { quorum?: number; fingerprints?: readonly string[]; createdAt: Date; expiresAt: Date | null },
): NewRequest {
  const { quorum = 1, fingerprints = ['ab'.repeat(32)], createdAt, expiresAt } = options;
  return {
    id: randomUUID(),
    partitionId,
    keyId: randomUUID(),
    keyLabel: 'key',
    operation: 'SIGN',
    body: { payload: 'cGF5bG9hZA==' },
    passwordSealed: null,
    metaData: null,
    metaDataSignature: null,
    rule: { tokens: [{ groups: [{ quorum }] }] },
    ruleDigest: randomBytes(32),
    payloadDigest: randomBytes(32),
    challenge: randomBytes(64),
    createdBy: 'credential',
    createdAt,
    expiresAt,
    tasks: fingerprints.map((fingerprint) => ({
      id: randomUUID(),
      fingerprint,
      approverPublicKey: randomBytes(44),
      approverCertificate: null,
      approverName: null,
    })),
  };
}
