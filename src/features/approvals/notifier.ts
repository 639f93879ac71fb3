/**
 * Approver notification: when a request creates tasks and when it ends, the partition's webhook (if it
 * has one) receives a JSON body signed by the partition's timestamp key. Delivery runs as a queue job,
 * so a failed call is retried with backoff; the body holds ids and public keys, never payloads.
 * The signed body names its receiver (`url`), the time of the attempt (`sentAt`) and the notification
 * (`deliveryId`, the same on every retry), so a receiver can refuse a body meant for another URL, an old
 * one, or one it has already taken.
 */
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { isoSeconds } from '../../lib/time.js';

export const SIGNATURE_HEADER = 'x-opentsb-signature';
const TIMEOUT_MS = 5_000;

export class WebhookNotifier {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly hsm: SoftHsm,
  ) {}

  async deliver(requestId: string, event: string): Promise<void> {
    const request = await this.prisma.skaRequest.findUnique({
      where: { id: requestId },
      include: { tasks: { select: { id: true, approverPublicKey: true, decision: true } }, partition: true },
    });
    const url = request?.partition.webhookUrl;
    if (!request || !url) return;
    const name = event === 'created' ? 'tasks.created' : 'request.ended';
    const body = Buffer.from(
      JSON.stringify({
        event: name,
        deliveryId: `${request.id}:${name}`,
        url,
        sentAt: this.hsm.clock.now().toISOString(),
        partition: request.partition.name,
        requestId: request.id,
        status: request.status,
        operation: request.operation,
        keyName: request.keyLabel,
        createdAt: isoSeconds(request.createdAt),
        tasks: request.tasks
          .filter((task) => task.decision === null)
          .map((task) => ({
            id: task.id,
            approverPublicKey: Buffer.from(task.approverPublicKey).toString('base64'),
          })),
      }),
      'utf8',
    );
    const signature = await this.hsm.signWithTimestampKey(request.partition, body);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature.toString('base64') },
      body,
      // only the configured URL: a redirect would carry the signed body wherever its Location says
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`webhook ${url} answered ${response.status}`);
  }
}
