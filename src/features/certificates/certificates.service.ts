import { presentedApprovals } from '../../hsm/approval-gate.js';
import type { HeldCertificate, LabelledCertificate } from '../../hsm/key-certificates/key-certificates.js';
import type { CsrInput, SelfSignInput, SignCertificateInput } from '../../hsm/key-certificates/plans.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';

type WithApprovals<T> = T & { signedApprovals?: string[] | null };

/**
 * The synchronous certificate endpoints (reference §2.6) for a caller's partition: the request body is
 * the HSM core's input, its `signedApprovals` the authorization for a key whose ruleUse needs approvals.
 */
export class CertificatesService {
  constructor(private readonly hsm: SoftHsm) {}

  async request(
    partitionId: string,
    { signedApprovals, ...input }: WithApprovals<CsrInput>,
  ): Promise<{ label: string; certificateSigningRequest: string }> {
    const partition = await this.hsm.partition(partitionId);
    return this.hsm.keyCertificates.request(partition, input, presentedApprovals(signedApprovals));
  }

  async selfSign(
    partitionId: string,
    { signedApprovals, ...input }: WithApprovals<SelfSignInput>,
  ): Promise<LabelledCertificate> {
    const partition = await this.hsm.partition(partitionId);
    return this.hsm.keyCertificates.selfSign(partition, input, presentedApprovals(signedApprovals));
  }

  async sign(
    partitionId: string,
    { signedApprovals, ...input }: WithApprovals<SignCertificateInput>,
  ): Promise<LabelledCertificate> {
    const partition = await this.hsm.partition(partitionId);
    return this.hsm.keyCertificates.sign(partition, input, presentedApprovals(signedApprovals));
  }

  async importPlain(
    partitionId: string,
    input: { label: string; certificate: string },
  ): Promise<LabelledCertificate> {
    return this.hsm.keyCertificates.importPlain(await this.hsm.partition(partitionId), input);
  }

  async get(partitionId: string, keyName: string): Promise<HeldCertificate> {
    return this.hsm.keyCertificates.get(await this.hsm.partition(partitionId), keyName);
  }

  async remove(partitionId: string, keyName: string): Promise<void> {
    await this.hsm.keyCertificates.remove(await this.hsm.partition(partitionId), keyName);
  }
}
