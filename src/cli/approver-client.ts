/**
 * The approver's side of the HTTP API (reference §2.5, §4): list tasks with a signed timestamp,
 * approve, reject, and fetch the partition's certificate chain. Talks to a running service only.
 */
import type { ApproverSigner } from './approver-key-file.js';
import { CliError } from './command.js';

export interface ApproverCredential {
  apiKey?: string;
  token?: string;
}

export interface Task {
  id: string;
  requestId: string;
  operation: string;
  keyName: string;
  createdAt: string;
  expiresAt: string | null;
  approvalToBeSigned: string;
  rejectionToBeSigned: string;
  payloadDigest: string;
  approverPublicKey: string;
  metaData?: string | null;
  metaDataSignature?: string | null;
  payload?: string | null;
  payloadType?: string | null;
  keyAttributes?: string | null;
  keyAttributesSignature?: string | null;
  [field: string]: unknown;
}

/** PEM certificates of GET /v1/attestation/certificates. */
export interface CertificateChain {
  root: string;
  device: string;
  attestation: string;
  timestamp: string;
}

export class ApproverClient {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly credential: ApproverCredential,
    private readonly signer: ApproverSigner,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  /** The approver's open tasks (all operations), or only those of `filter`, at detail level 1–5. */
  async tasks(filter: { id?: string; requestId?: string; level?: number } = {}): Promise<Task[]> {
    // whole seconds: the service allows no timestamp from a second it has not reached yet
    const timestamp = `${new Date().toISOString().slice(0, 19)}Z`;
    const body = {
      timestamp,
      timestampSignature: this.signature(Buffer.from(timestamp, 'utf8')),
      timestampDigestAlgorithm: this.signer.digestAlgorithm,
      approverPublicKey: this.signer.publicKey,
      detailLevel: `level${filter.level ?? 1}`,
      ...(filter.id ? { id: filter.id } : {}),
      ...(filter.requestId ? { requestId: filter.requestId } : {}),
      paging: { pageNumber: 0, pageSize: 100, sortOrder: 'CREATION_DATE_ASC' },
    };
    const answer = (await this.call('POST', '/v1/filteredAllApprovalTask', body)) as { tasks: Task[] };
    return answer.tasks;
  }

  /** One open task of this approver at level 5; a CliError when there is none. */
  async task(id: string): Promise<Task> {
    const [task] = await this.tasks({ id, level: 5 });
    if (!task) throw new CliError(`no open task ${id} for this approver key`);
    return task;
  }

  async approve(task: Task, challenge: Buffer): Promise<void> {
    await this.call('POST', '/v1/approval', {
      id: task.id,
      approvalToBeSigned: challenge.toString('base64'),
      signature: this.signature(challenge),
      approvalDigestAlgorithm: this.signer.digestAlgorithm,
      approverPublicKey: this.signer.publicKey,
    });
  }

  /** `rejection`: "REJECT:" ‖ challenge, computed by the caller from the challenge it reviewed. */
  async reject(task: Task, rejection: Buffer, reason: string): Promise<void> {
    await this.call('DELETE', '/v1/task', {
      id: task.id,
      signature: this.signature(rejection),
      approvalDigestAlgorithm: this.signer.digestAlgorithm,
      approverPublicKey: this.signer.publicKey,
      reason,
    });
  }

  async certificates(): Promise<CertificateChain> {
    return (await this.call('GET', '/v1/attestation/certificates')) as CertificateChain;
  }

  private signature(data: Uint8Array): string {
    return this.signer.sign(data).toString('base64');
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.credential.apiKey) headers['x-api-key'] = this.credential.apiKey;
    if (this.credential.token) headers['authorization'] = `Bearer ${this.credential.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw new CliError(`cannot reach ${this.baseUrl}: ${cause}`);
    }
    const text = await response.text();
    if (!response.ok) throw new CliError(`${method} ${path}: HTTP ${response.status} ${tsbError(text)}`);
    if (text === '') return null;
    try {
      return JSON.parse(text);
    } catch {
      throw new CliError(`${method} ${path}: the answer is not JSON`);
    }
  }
}

/** "errorCode 403 res.error.input.invalid.signature: message" from a TSB error body, else the text. */
function tsbError(text: string): string {
  try {
    const body = JSON.parse(text) as { errorCode?: unknown; reason?: unknown; message?: unknown };
    if (typeof body.errorCode === 'number') {
      return `(errorCode ${body.errorCode} ${String(body.reason ?? '')}): ${String(body.message ?? '')}`;
    }
  } catch {
    // not JSON: show it as it is, shortened
  }
  return text.slice(0, 500);
}
