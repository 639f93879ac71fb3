import { describe, expect, it } from 'vitest';
import type { Caller } from '../../../src/auth/caller.js';
import { type AuditedRequest, auditRecordOf } from '../../../src/features/audit/audit-record.js';

const caller: Caller = {
  partitionId: '11111111-2222-4333-8444-555555555555',
  partitionName: 'p',
  roles: new Set(['keyOperation', 'approver']),
  credentials: [
    { method: 'jwt', id: 'jti-1', principal: 'sub:alice' },
    { method: 'apiKey', id: 'key-1', principal: 'key-1' },
  ],
};

const request = (change: Partial<AuditedRequest>): AuditedRequest => ({
  method: 'POST',
  route: '/v1/synchronousSign',
  caller,
  params: {},
  body: {},
  statusCode: 200,
  payload: '{"signature":"MEUCIQ=="}',
  at: new Date('2026-11-29T12:00:00.000Z'),
  ...change,
});

describe('auditRecordOf', () => {
  it('records who and what, and takes only the key name from a TSB envelope', () => {
    const record = auditRecordOf(
      request({
        body: {
          signRequest: {
            payload: 'c2VjcmV0IHBheWxvYWQ=',
            signKeyName: 'payments',
            keyPassword: 'hunter2',
            signatureAlgorithm: 'SHA256_WITH_ECDSA',
          },
        },
      }),
    );
    expect(record).toEqual({
      chain: caller.partitionId,
      partitionId: caller.partitionId,
      at: new Date('2026-11-29T12:00:00.000Z'),
      credentialId: 'jwt:sub:alice,apiKey:key-1',
      roles: ['approver', 'keyOperation'],
      action: 'POST /v1/synchronousSign',
      keyLabel: 'payments',
      requestId: null,
      outcome: 'success',
      statusCode: 200,
      errorCode: null,
    });
    expect(JSON.stringify(record)).not.toMatch(/hunter2|c2VjcmV0|MEUCIQ/);
  });

  it('finds the key name in the certificate request envelopes of the SKA forms', () => {
    for (const envelope of ['csrSignRequest', 'selfSignCertificateRequest', 'signCertificateRequest']) {
      const record = auditRecordOf(
        request({
          route: '/v1/certificate/sign',
          statusCode: 201,
          body: { [envelope]: { signKeyName: 'root-ca', certificateSigningRequest: '-----BEGIN…' } },
          payload: '{"signRequestId":"0b6f7d5e-1c7a-4d55-9f0e-2d1c9f3b8a11"}',
        }),
      );
      expect(record.keyLabel).toBe('root-ca');
      expect(record.requestId).toBe('0b6f7d5e-1c7a-4d55-9f0e-2d1c9f3b8a11');
    }
  });

  it('puts a request that named no partition on the service chain, with the error code it got', () => {
    const record = auditRecordOf(
      request({
        caller: null,
        method: 'GET',
        route: '/v1/key/:keyName/attributes',
        params: { keyName: 'wallet' },
        statusCode: 401,
        payload: '{"errorCode":406,"reason":"res.error.missing.access.token","message":"no credentials"}',
      }),
    );
    expect(record).toMatchObject({
      chain: 'service',
      partitionId: null,
      credentialId: null,
      roles: [],
      keyLabel: 'wallet',
      outcome: 'failure',
      errorCode: 406,
    });
  });

  it('finds SKA request ids in the path, the body and the 201 answer; a task id only on the task routes', () => {
    const id = '00000000-0000-4000-8000-000000000001';
    expect(
      auditRecordOf(request({ method: 'GET', route: '/v1/request/:id', params: { id } })).requestId,
    ).toBe(id);
    expect(auditRecordOf(request({ route: '/v1/approval', body: { id } })).requestId).toBe(id);
    expect(auditRecordOf(request({ method: 'DELETE', route: '/v1/task', body: { id } })).requestId).toBe(id);
    // a body id elsewhere is, say, the id of a new key
    expect(auditRecordOf(request({ route: '/v1/key', body: { id, label: 'k' } })).requestId).toBeNull();
    const created = auditRecordOf(
      request({ route: '/v1/sign', statusCode: 201, payload: `{"signRequestId":"${id}"}` }),
    );
    expect(created.requestId).toBe(id);
  });

  it('stores text PostgreSQL can hold and hash alike: no NUL, well-formed, bounded', () => {
    const record = auditRecordOf(request({ body: { label: `a\u0000b\uD800${'x'.repeat(2000)}` } }));
    expect(record.keyLabel).toHaveLength(1024);
    expect(record.keyLabel!.startsWith('a\uFFFDb\uFFFD')).toBe(true);
  });
});
