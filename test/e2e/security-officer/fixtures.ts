/**
 * Security officers for the end-to-end tests: keys made by the openssl CLI (signatures by `openssl dgst`
 * / `openssl pkeyutl`) or by node:crypto, statements written out by hand as an officer's script would, and
 * the HTTP calls of the security officer API under a token of the officer's own subject.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { parseOfficerKey } from '../../../src/features/officers/officer-key.js';
import { OfficerRegistry } from '../../../src/features/officers/officer-registry.js';
import type { TestContext } from '../../helpers/app.js';
import { openssl } from '../../helpers/openssl.js';
import { issueTestToken } from '../../helpers/tokens.js';

export interface TestOfficer {
  name: string;
  /** base64 SPKI DER */
  publicKey: string;
  /** PEM public key, for `tsb officer add` */
  publicKeyPem: string;
  digest: string;
  sign(data: Uint8Array): Promise<Buffer>;
}

/** A P-256 officer whose key lives in `dir` and who signs with the openssl CLI (ECDSA, DER). */
export async function opensslOfficer(dir: string, name: string): Promise<TestOfficer> {
  const keyFile = path.join(dir, `${name}.key.pem`);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
  await openssl(['pkey', '-in', keyFile, '-pubout', '-outform', 'DER', '-out', `${keyFile}.pub.der`]);
  await openssl(['pkey', '-in', keyFile, '-pubout', '-out', `${keyFile}.pub.pem`]);
  let counter = 0;
  return {
    name,
    publicKey: (await readFile(`${keyFile}.pub.der`)).toString('base64'),
    publicKeyPem: await readFile(`${keyFile}.pub.pem`, 'utf8'),
    digest: 'SHA-256',
    async sign(data) {
      const base = path.join(dir, `${name}.${counter++}`);
      await writeFile(`${base}.data`, data);
      await openssl(['dgst', '-sha256', '-sign', keyFile, '-out', `${base}.sig`, `${base}.data`]);
      return readFile(`${base}.sig`);
    },
  };
}

/** An officer whose key node:crypto made and signs with (Ed25519: pure EdDSA; P-256: ECDSA DER). */
export function nodeOfficer(name: string, kind: 'Ed25519' | 'P-256' = 'Ed25519'): TestOfficer {
  const { publicKey, privateKey } =
    kind === 'Ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    name,
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    digest: kind === 'Ed25519' ? 'EdDSA' : 'SHA-256',
    sign: async (data) => sign(kind === 'Ed25519' ? null : 'sha256', data, privateKey),
  };
}

export async function registerOfficer(
  ctx: TestContext,
  partitionName: string,
  officer: TestOfficer,
): Promise<void> {
  const partition = await ctx.hsm.partitions.requireByName(partitionName);
  await new OfficerRegistry(ctx.prisma).add(
    partition.id,
    officer.name,
    parseOfficerKey(Buffer.from(officer.publicKeyPem)),
  );
}

/** ISO-8601 UTC with whole seconds, as `date -u +%Y-%m-%dT%H:%M:%SZ` prints it. */
export const isoSeconds = (date: Date): string => `${date.toISOString().slice(0, 19)}Z`;

/**
 * The statement bytes, written out member by member in sorted order (not through the service's canonical JSON
 * code), as an officer's script does with printf. `parameters` must be given with sorted keys.
 */
export function statementOf(
  action: string,
  parameters: Record<string, unknown>,
  partition: string,
  proposedAt: Date,
  nonce = randomBytes(16).toString('hex'),
): Buffer {
  return Buffer.from(
    `{"action":"${action}","nonce":"${nonce}","parameters":${JSON.stringify(parameters)},` +
      `"partition":"${partition}","proposedAt":"${isoSeconds(proposedAt)}"}`,
    'utf8',
  );
}

/** A call of the security officer API with a token of this subject (its principal: separation of duties). */
export async function officerCall(
  ctx: TestContext,
  partition: string,
  subject: string,
  options: { method: InjectOptions['method']; url: string; body?: unknown },
): Promise<LightMyRequestResponse> {
  const token = await issueTestToken(ctx.config, partition, ['securityOfficer'], subject);
  return ctx.app.inject({
    method: options.method,
    url: options.url,
    headers: { authorization: `Bearer ${token}` },
    ...(options.body === undefined ? {} : { payload: options.body as object }),
  });
}

export async function propose(
  ctx: TestContext,
  partition: string,
  officer: TestOfficer,
  statement: Buffer,
  options: { subject?: string; signature?: Buffer } = {},
): Promise<LightMyRequestResponse> {
  return officerCall(ctx, partition, options.subject ?? `${officer.name}-login`, {
    method: 'POST',
    url: '/v1/securityOfficer/proposal',
    body: {
      statement: statement.toString('base64'),
      officerPublicKey: officer.publicKey,
      signature: (options.signature ?? (await officer.sign(statement))).toString('base64'),
      digestAlgorithm: officer.digest,
    },
  });
}

/** Approves (or rejects, with `reason`) by signing the prefix and the proposal's statement. */
export async function decide(
  ctx: TestContext,
  partition: string,
  officer: TestOfficer,
  proposal: { id: string; statement: string },
  options: { reject?: string; subject?: string; signature?: Buffer } = {},
): Promise<LightMyRequestResponse> {
  const prefix = options.reject === undefined ? 'APPROVE:' : 'REJECT:';
  const signed = Buffer.concat([Buffer.from(prefix), Buffer.from(proposal.statement, 'base64')]);
  return officerCall(ctx, partition, options.subject ?? `${officer.name}-login`, {
    method: 'POST',
    url: `/v1/securityOfficer/proposal/${options.reject === undefined ? 'approve' : 'reject'}`,
    body: {
      id: proposal.id,
      officerPublicKey: officer.publicKey,
      signature: (options.signature ?? (await officer.sign(signed))).toString('base64'),
      digestAlgorithm: officer.digest,
      ...(options.reject === undefined ? {} : { reason: options.reject }),
    },
  });
}

/** Proposes, expecting 201, and answers the proposal. */
export async function proposed(
  ctx: TestContext,
  partition: string,
  officer: TestOfficer,
  statement: Buffer,
): Promise<{ id: string; statement: string; status: string }> {
  const response = await propose(ctx, partition, officer, statement);
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

export function expectTsbError(response: LightMyRequestResponse, status: number, errorCode: number): void {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.json().errorCode, response.body).toBe(errorCode);
}
