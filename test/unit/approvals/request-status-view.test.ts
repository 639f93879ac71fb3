import { describe, expect, it } from 'vitest';
import type { RequestWithTasks } from '../../../src/features/approvals/requests.repository.js';
import { statusView } from '../../../src/features/approvals/requests.service.js';

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 5, 12, 0, seconds));

function task(name: string, decision: 'APPROVED' | 'REJECTED' | null, decidedAt: Date | null) {
  return {
    id: `task-${name}`,
    requestId: 'r',
    partitionId: 'p',
    fingerprint: name,
    approverPublicKey: Buffer.from(name),
    approverCertificate: null,
    approverName: name,
    decision,
    signature: null,
    digestAlgorithm: null,
    reason: decision === 'REJECTED' ? `reason of ${name}` : null,
    decidedAt,
    decisionSettled: decidedAt === null ? null : true,
    createdAt: at(0),
    lastFetchedAt: at(0),
  };
}

function request(tasks: ReturnType<typeof task>[]): RequestWithTasks {
  return {
    id: 'r',
    partitionId: 'p',
    keyId: 'k',
    keyLabel: 'payments',
    operation: 'SIGN',
    status: 'REJECTED',
    body: {},
    passwordSealed: null,
    metaData: null,
    metaDataSignature: null,
    rule: {},
    ruleDigest: Buffer.alloc(0),
    payloadDigest: Buffer.alloc(0),
    challenge: Buffer.alloc(0),
    createdBy: 'c',
    createdAt: at(0),
    executableAt: null,
    expiresAt: null,
    executionClaimedAt: null,
    executedAt: null,
    result: null,
    errorCode: null,
    errorMessage: null,
    updatedAt: at(0),
    tasks,
  } as RequestWithTasks;
}

const b64 = (name: string) => Buffer.from(name).toString('base64');

describe('the status of a request', () => {
  it('lists decisions in the order they were made, whatever order the tasks come in', () => {
    // PostgreSQL returns updated rows in no particular order: here the later rejection first
    const view = statusView(
      request([
        task('dave', null, null),
        task('bob', 'REJECTED', at(20)),
        task('alice', 'APPROVED', at(5)),
        task('carol', 'REJECTED', at(10)),
        task('erin', 'APPROVED', at(3)),
        task('aaron', null, null),
      ]),
      null,
    );
    expect(view.rejections).toEqual([
      { approverPublicKey: b64('carol'), reason: 'reason of carol' },
      { approverPublicKey: b64('bob'), reason: 'reason of bob' },
    ]);
    expect(view.rejectedBy).toEqual([b64('carol'), b64('bob')]);
    expect(view.approvedBy).toEqual([b64('erin'), b64('alice')]);
    // undecided ones in a stable order (by approver fingerprint)
    expect(view.notYetApprovedBy).toEqual([b64('aaron'), b64('dave')]);
  });
});
