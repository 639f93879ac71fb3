/**
 * Certificates of stored keys (reference §2.6): a CSR for a key (the key then holds a self-signed
 * certificate too), a self-signed certificate, a certificate a CA key issues from a CSR, and importing,
 * reading and deleting the certificate a key holds. Every signature goes through the key operations'
 * normal use path (password, attributes, block status, partition flags, SKA ruleUse, use count).
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { splitKeyName } from '../../crypto/derivation/key-derivation.js';
import { certificateSpki } from '../../crypto/spki-pkcs8.js';
import { signedCertificate, tbsCertificate } from '../../crypto/x509/certificate.js';
import { certificationRequest, certificationRequestInfo, csrPem } from '../../crypto/x509/csr.js';
import { certificateExtensions, requestedExtensions } from '../../crypto/x509/extensions.js';
import { certificatePem, keyIdentifier, randomSerial } from '../../crypto/x509/x509.js';
import { TsbError } from '../../errors.js';
import type { Key, Partition } from '../../generated/prisma/client.js';
import type { PasswordInput } from '../../keystore/key-password.js';
import { assertWritable } from '../../keystore/keys/key-input-rules.js';
import type { KeyStore } from '../../keystore/keys/key-store.js';
import { decodeKeyField } from '../../lib/encoding.js';
import type { SkaOperation } from '../../ska/challenge.js';
import type { Authorization } from '../approval-gate.js';
import type { KeyOperations } from '../key-operations/key-operations.js';
import {
  type CertificatePlan,
  type CsrInput,
  certificateApprovalPayload,
  planCsr,
  planSelfSign,
  planSignCertificate,
  type SelfSignInput,
  type SignCertificateInput,
  type SigningKey,
} from './plans.js';

export type CertificateOperation = Extract<
  SkaOperation,
  'CERTIFICATE_REQUEST' | 'SELF_SIGN_CERTIFICATE' | 'SIGN_CERTIFICATE'
>;

export interface LabelledCertificate {
  label: string;
  /** PEM */
  certificate: string;
}

/** The certificate a key holds, as `GET /v1/certificate/{keyName}` answers it. */
export interface HeldCertificate extends LabelledCertificate {
  /** base64 DER, no armour (the Keycloak provider reads this field) */
  rawCertificate: string;
}

const DAY_MS = 86_400_000;
type Signer = (data: Buffer) => Promise<Buffer>;

export class KeyCertificates {
  constructor(
    private readonly keys: KeyStore,
    private readonly operations: KeyOperations,
    private readonly clock: Clock,
  ) {}

  /** A PKCS#10 CSR for the key; the key then holds a self-signed certificate of the same subject. */
  async request(
    partition: Partition,
    input: CsrInput,
    authorization: Authorization | null,
  ): Promise<{ label: string; certificateSigningRequest: string }> {
    assertWritable(partition);
    return this.signWith(partition, input, 'CERTIFICATE_REQUEST', authorization, async (key, signer) => {
      const plan = planCsr(key, input);
      const info = certificationRequestInfo(plan.subject, plan.subjectPublicKey, requestedExtensions(plan));
      const csr = certificationRequest(info, plan.algorithmIdentifier, await signer(info));
      await this.store(partition, key, await this.issue(plan, signer));
      return { label: key.label, certificateSigningRequest: csrPem(csr) };
    });
  }

  /** A self-signed certificate of the key, stored on it. */
  async selfSign(
    partition: Partition,
    input: SelfSignInput,
    authorization: Authorization | null,
  ): Promise<LabelledCertificate> {
    assertWritable(partition);
    return this.signWith(partition, input, 'SELF_SIGN_CERTIFICATE', authorization, async (key, signer) => {
      const certificate = await this.issue(planSelfSign(key, input), signer);
      await this.store(partition, key, certificate);
      return { label: key.label, certificate: certificatePem(certificate) };
    });
  }

  /** A certificate for the key of a CSR, issued by the CA key under the certificate that key holds. */
  async sign(
    partition: Partition,
    input: SignCertificateInput,
    authorization: Authorization | null,
  ): Promise<LabelledCertificate> {
    return this.signWith(partition, input, 'SIGN_CERTIFICATE', authorization, async (key, signer) => {
      const certificate = await this.issue(planSignCertificate(key, input), signer);
      return { label: key.label, certificate: certificatePem(certificate) };
    });
  }

  /**
   * Checks an SKA certificate request before it is stored, as far as it can be checked without
   * approvals: key type, algorithm, subject, usages, validity, the CSR and the CA key's certificate.
   */
  check(operation: CertificateOperation, key: SigningKey, body: object): void {
    const keyName = (body as { signKeyName?: unknown }).signKeyName;
    if (typeof keyName === 'string') refuseDerivation(keyName);
    if (operation === 'CERTIFICATE_REQUEST') planCsr(key, body as CsrInput);
    else if (operation === 'SELF_SIGN_CERTIFICATE') planSelfSign(key, body as SelfSignInput);
    else planSignCertificate(key, body as SignCertificateInput);
  }

  /** Stores a certificate (base64 DER, or PEM) on an existing key whose public key it certifies. */
  async importPlain(
    partition: Partition,
    input: { label: string; certificate: string },
  ): Promise<LabelledCertificate> {
    assertWritable(partition);
    const der = certificateDer(input.certificate);
    const key = await this.keys.requireKey(partition, input.label);
    if (!key.publicKey) {
      throw new TsbError('INVALID_KEY_TYPE', `key "${key.label}" has no public key to certify`);
    }
    if (!samePublicKey(certificateSpki(der), Buffer.from(key.publicKey))) {
      throw new TsbError(
        'INVALID_CERTIFICATE',
        `the certificate's public key is not the public key of key "${key.label}"`,
      );
    }
    await this.store(partition, key, der);
    return { label: key.label, certificate: certificatePem(der) };
  }

  async get(partition: Partition, label: string): Promise<HeldCertificate> {
    const key = await this.keys.requireKey(partition, label, { cached: true });
    if (!key.certificate) throw noCertificate(key.label);
    return {
      label: key.label,
      certificate: certificatePem(key.certificate),
      rawCertificate: Buffer.from(key.certificate).toString('base64'),
    };
  }

  async remove(partition: Partition, label: string): Promise<void> {
    assertWritable(partition);
    const key = await this.keys.requireKey(partition, label);
    if (!key.certificate) throw noCertificate(key.label);
    await this.store(partition, key, null);
  }

  private signWith<T>(
    partition: Partition,
    input: { signKeyName: string; keyPassword?: PasswordInput; signatureAlgorithm: string },
    operation: CertificateOperation,
    authorization: Authorization | null,
    build: (key: Key, signer: Signer) => Promise<T>,
  ): Promise<T> {
    refuseDerivation(input.signKeyName);
    return this.operations.signBuilt(
      partition,
      {
        keyName: input.signKeyName,
        keyPassword: input.keyPassword ?? null,
        signatureAlgorithm: input.signatureAlgorithm,
        gated: {
          operation,
          payload: certificateApprovalPayload(input),
          parameters: { ...input },
          authorization,
        },
      },
      build,
    );
  }

  /** Builds and signs the planned certificate, valid from now for its number of days. */
  private async issue(plan: CertificatePlan, signer: Signer): Promise<Buffer> {
    const notBefore = new Date(Math.floor(this.clock.now().getTime() / 1000) * 1000);
    const tbs = tbsCertificate({
      serialNumber: randomSerial(),
      signatureAlgorithm: plan.algorithmIdentifier,
      issuer: plan.issuer?.name ?? plan.subject,
      notBefore,
      notAfter: new Date(notBefore.getTime() + plan.validityDays * DAY_MS),
      subject: plan.subject,
      subjectPublicKey: plan.subjectPublicKey,
      extensions: certificateExtensions({
        ...plan,
        authorityKeyId: plan.issuer?.keyIdentifier ?? keyIdentifier(plan.subjectPublicKey),
      }),
    });
    return signedCertificate(tbs, plan.algorithmIdentifier, await signer(tbs));
  }

  /** Sets (or, with null, removes) the key's certificate; the key's version stays: its material is unchanged. */
  private store(partition: Partition, key: Key, certificate: Buffer | null): Promise<void> {
    return this.keys.setCertificate(partition, key, certificate);
  }
}

function refuseDerivation(keyName: string): void {
  const { path } = splitKeyName(keyName);
  if (path && path.length > 0) {
    throw new TsbError(
      'DERIVATION_NOT_SUPPORTED',
      'derived keys (a path after the label) cannot hold or sign certificates',
    );
  }
}

const noCertificate = (label: string) => new TsbError('NOT_FOUND', `key "${label}" holds no certificate`);

/** The DER of a certificate given as base64 DER (the TSB form) or PEM; anything else → 626 / 409. */
function certificateDer(value: string): Buffer {
  const bytes = decodeKeyField(value, 'certificate', 'CERTIFICATE_INVALID_ENCODING');
  let der: Buffer;
  try {
    der = Buffer.from(new X509Certificate(bytes).raw);
    certificateSpki(der);
  } catch {
    throw new TsbError('PARSING_CERTIFICATE', 'certificate is not a DER (or PEM) X.509 certificate');
  }
  return der;
}

/** Same key: the same SPKI bytes, or keys node:crypto reads as equal (another encoding of one key). */
function samePublicKey(a: Buffer, b: Buffer): boolean {
  if (a.equals(b)) return true;
  try {
    const left = createPublicKey({ key: a, format: 'der', type: 'spki' });
    return left.equals(createPublicKey({ key: b, format: 'der', type: 'spki' }));
  } catch {
    return false;
  }
}
