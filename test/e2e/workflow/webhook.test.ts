import { createPublicKey, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER } from '../../../src/features/approvals/notifier.js';
import { createTestContext, type TestContext } from '../../helpers/app.js';
import { approve, createApprover, rule, taskOf, waitForStatus } from '../../helpers/approvers.js';

interface Delivery {
  body: Buffer;
  signature: string;
}

describe('approver notification webhook', () => {
  let ctx: TestContext;
  let server: Server;
  const deliveries: Delivery[] = [];
  let failuresToGive = 1;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        deliveries.push({
          body: Buffer.concat(chunks),
          signature: String(request.headers[SIGNATURE_HEADER]),
        });
        // the first delivery fails, so the retry through the queue is exercised
        response.statusCode = failuresToGive-- > 0 ? 500 : 204;
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ctx = await createTestContext({ worker: true });
    const partition = await ctx.partition('hooked');
    const { port } = server.address() as AddressInfo;
    await ctx.prisma.partition.update({
      where: { id: partition.id },
      data: { webhookUrl: `http://127.0.0.1:${port}/hook` },
    });
  });
  afterAll(async () => {
    await ctx?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  const events = () => deliveries.map((delivery) => JSON.parse(delivery.body.toString('utf8')));

  async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`webhook deliveries so far: ${JSON.stringify(events())}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('announces new tasks and the end of a request with bodies signed by the partition timestamp key', async () => {
    const approver = createApprover('P-256');
    const created = await ctx.call('hooked', ['keyManagement'], {
      method: 'POST',
      url: '/v1/key',
      body: {
        label: 'hooked-key',
        algorithm: 'ED',
        attributes: { decrypt: false, sign: true, unwrap: false },
        policy: { ruleUse: rule([{ quorum: 1, approvers: [approver] }]), keyStatus: { blocked: false } },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const sign = await ctx.call('hooked', ['keyOperation'], {
      method: 'POST',
      url: '/v1/sign',
      body: { signRequest: { payload: 'aGVsbG8=', signKeyName: 'hooked-key', signatureAlgorithm: 'EDDSA' } },
    });
    const { signRequestId } = sign.json();
    // the first call answered 500; the queue retried it
    await until(() => events().filter((event) => event.event === 'tasks.created').length >= 2);
    const task = await taskOf(ctx, 'hooked', approver, signRequestId);
    expect((await approve(ctx, 'hooked', approver, task)).statusCode).toBe(200);
    await waitForStatus(ctx, 'hooked', signRequestId, ['EXECUTED']);
    await until(() => events().some((event) => event.event === 'request.ended'));

    const created1 = events().find((event) => event.event === 'tasks.created');
    expect(created1).toMatchObject({ requestId: signRequestId, operation: 'SIGN', keyName: 'hooked-key' });
    // each body names its receiver, its partition and its attempt's time; a retry is the same delivery
    const { port } = server.address() as AddressInfo;
    const [first, retry] = events().filter((event) => event.event === 'tasks.created');
    for (const event of events()) {
      expect(event).toMatchObject({ url: `http://127.0.0.1:${port}/hook`, partition: 'hooked' });
      expect(Math.abs(Date.parse(event.sentAt) - Date.now())).toBeLessThan(60_000);
    }
    expect(first.deliveryId).toBe(retry.deliveryId);
    expect(Date.parse(retry.sentAt)).toBeGreaterThan(Date.parse(first.sentAt));
    const ended = events().find((event) => event.event === 'request.ended');
    expect(ended.deliveryId).not.toBe(first.deliveryId);
    expect(created1.tasks).toEqual([{ id: task.id, approverPublicKey: approver.publicKey }]);
    expect(events().find((event) => event.event === 'request.ended')).toMatchObject({
      requestId: signRequestId,
      status: 'EXECUTED',
    });

    const partition = await ctx.prisma.partition.findUniqueOrThrow({ where: { name: 'hooked' } });
    const timestampKey = createPublicKey({
      key: Buffer.from(partition.timestampPublicKey!),
      format: 'der',
      type: 'spki',
    });
    for (const delivery of deliveries) {
      expect(verify('sha256', delivery.body, timestampKey, Buffer.from(delivery.signature, 'base64'))).toBe(
        true,
      );
      const tampered = Buffer.from(delivery.body);
      tampered.writeUInt8(tampered.readUInt8(tampered.length - 2) ^ 1, tampered.length - 2);
      expect(verify('sha256', tampered, timestampKey, Buffer.from(delivery.signature, 'base64'))).toBe(false);
      expect(delivery.body.toString('utf8')).not.toContain('aGVsbG8=');
    }
  });
  it('follows no redirect: the signed body goes to the configured URL only, a 3xx is a failed delivery', async () => {
    // a receiver (or whoever controls it) answering 307 must not steer the service to another, internal, address
    const elsewhere: string[] = [];
    const internal = createServer((request, response) => {
      elsewhere.push(request.url ?? '');
      response.statusCode = 204;
      response.end();
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    let redirects = 0;
    const redirecting = createServer((request, response) => {
      request.resume();
      redirects++;
      response.statusCode = 307;
      response.setHeader('location', `http://127.0.0.1:${(internal.address() as AddressInfo).port}/admin`);
      response.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const partition = await ctx.partition('redirected');
      await ctx.prisma.partition.update({
        where: { id: partition.id },
        data: { webhookUrl: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/hook` },
      });
      const approver = createApprover('P-256');
      const created = await ctx.call('redirected', ['keyManagement'], {
        method: 'POST',
        url: '/v1/key',
        body: {
          label: 'redirected-key',
          algorithm: 'ED',
          attributes: { decrypt: false, sign: true, unwrap: false },
          policy: { ruleUse: rule([{ quorum: 1, approvers: [approver] }]), keyStatus: { blocked: false } },
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      const sign = await ctx.call('redirected', ['keyOperation'], {
        method: 'POST',
        url: '/v1/sign',
        body: {
          signRequest: { payload: 'aGVsbG8=', signKeyName: 'redirected-key', signatureAlgorithm: 'EDDSA' },
        },
      });
      expect(sign.statusCode, sign.body).toBe(201);
      // the 307 counts as a failure, so the queue tries again: two calls, and neither was followed
      await until(() => redirects >= 2);
      expect(elsewhere).toEqual([]);
    } finally {
      await new Promise((resolve) => redirecting.close(resolve));
      await new Promise((resolve) => internal.close(resolve));
    }
  });
});
