import { normalizeAlgorithm } from '../../crypto/algorithms.js';
import { splitKeyName } from '../../crypto/derivation/key-derivation.js';
import { hmac, verifyHmac } from '../../crypto/macs/hmac-sha256.js';
import { checkSignRequest, sign, verify } from '../../crypto/signatures/signatures.js';
import { isStatefulKey, signStateful } from '../../crypto/signatures/signatures-stateful.js';
import { TsbError } from '../../errors.js';
import type { Key, Partition } from '../../generated/prisma/client.js';
import type { PasswordInput } from '../../keystore/key-password.js';
import type { KeyStore } from '../../keystore/keys/key-store.js';
import type { ApprovalGate, Authorization } from '../approval-gate.js';
import type { SignInput, VerifyInput } from './key-operations.types.js';
import type { GatedUse, KeyResolver } from './key-resolver.js';
import {
  binary,
  optionalBinary,
  payloadOf,
  refuseDerivationFor,
  refuseKeyObject,
  signPayloadOf,
} from './operation-inputs.js';
import type { OperationUses } from './operation-uses.js';

/** Sign, verify (signatures and HMACs) and HMAC with stored keys, and signing of bytes the HSM builds. */
export class SignVerifyOperations {
  constructor(
    private readonly resolver: KeyResolver,
    private readonly gate: ApprovalGate,
    private readonly uses: OperationUses,
    private readonly keys: Pick<KeyStore, 'reserveSignatureIndex'>,
  ) {}

  async sign(partition: Partition, input: SignInput, authorization: Authorization | null): Promise<Buffer> {
    const startedAt = performance.now();
    refuseKeyObject(input.signKeyObject);
    const payload = signPayloadOf(input.payload, input.payloadType, 'signRequest.payload');
    optionalBinary(input.metaData, 'signRequest.metaData');
    optionalBinary(input.metaDataSignature, 'signRequest.metaDataSignature');
    const { key, ready, spend } = await this.resolver.ready(
      partition,
      input.signKeyName,
      input.keyPassword,
      'sign',
      { operation: 'SIGN', payload, parameters: { ...input }, authorization },
    );
    // a request the key cannot sign is refused before its approvals are spent
    if (spend) this.checkSignRequest(key, input);
    await this.gate.spend(spend, { countUse: true });
    const request = {
      signatureAlgorithm: input.signatureAlgorithm,
      payload,
      signatureType: input.signatureType ?? null,
      payloadType: input.payloadType ?? null,
      context: optionalBinary(input.context, 'signRequest.context'),
    };
    if (isStatefulKey(ready)) {
      // checked before an index is spent on it; the index is reserved (committed) before the signature is made
      this.checkSignRequest(key, input);
      const reserved = await this.keys.reserveSignatureIndex(key);
      const signature = await signStateful(ready, reserved.index, request);
      await this.uses.used(key, 'sign', {
        startedAt,
        authorization,
        approvalsSpent: spend !== null,
        stateful: { keyId: key.id, label: key.label, ...reserved },
      });
      return signature;
    }
    const signature = await sign(ready, request);
    await this.uses.used(key, 'sign', { startedAt, authorization, approvalsSpent: spend !== null });
    return signature;
  }

  async verify(partition: Partition, input: VerifyInput): Promise<boolean> {
    const startedAt = performance.now();
    const { verifySignatureRequest: signature, verifyHmacRequest: mac } = input;
    // null is absent: a client may send the other request as null
    if ((signature == null) === (mac == null)) {
      throw new TsbError(
        'INPUT_VALIDATION_FAILED',
        'send exactly one of verifySignatureRequest and verifyHmacRequest',
      );
    }
    if (mac) {
      const { key, ready } = await this.resolver.ready(partition, mac.keyName, mac.keyPassword, 'verify');
      const valid = verifyHmac(
        ready,
        payloadOf(mac.payload, 'verifyHmacRequest.payload'),
        binary(mac.signature, 'verifyHmacRequest.signature'),
      );
      await this.uses.used(key, 'verify', { startedAt });
      return valid;
    }
    const request = signature!;
    refuseKeyObject(request.signKeyObject);
    const payload = signPayloadOf(request.payload, request.payloadType, 'verifySignatureRequest.payload');
    const signatureBytes = binary(request.signature, 'verifySignatureRequest.signature');
    const { key, publicKey } = await this.resolver.public(
      partition,
      request.signKeyName,
      request.keyPassword ?? request.masterKeyPassword,
      'verify',
    );
    const valid = await verify(publicKey, {
      signatureAlgorithm: request.signatureAlgorithm,
      payload,
      signature: signatureBytes,
      signatureType: request.signatureType ?? null,
      payloadType: request.payloadType ?? null,
      context: optionalBinary(request.context, 'verifySignatureRequest.context'),
    });
    await this.uses.used(key, 'verify', { startedAt });
    return valid;
  }

  async hmac(
    partition: Partition,
    input: { keyName: string; keyPassword?: PasswordInput; payload: string },
  ): Promise<Buffer> {
    const startedAt = performance.now();
    const payload = payloadOf(input.payload, 'hmacRequest.payload');
    const { key, ready } = await this.resolver.ready(partition, input.keyName, input.keyPassword, 'sign', {
      operation: 'SIGN',
      payload,
      parameters: {},
      authorization: null,
    });
    const mac = hmac(ready, payload);
    await this.uses.used(key, 'hmac', { startedAt });
    return mac;
  }

  /**
   * Signs bytes the HSM core builds itself (a certificate, a CSR) with a stored key, under the same checks
   * as `sign`: password, partition flags, block status, the `sign` attribute, the approval gate for
   * `ruleUse` (the approvers' payload is `gated.payload`), and one counted use per call. `build` gets the
   * key and a signer, and may sign more than once (a CSR and the key's self-signed certificate).
   */
  async signBuilt<T>(
    partition: Partition,
    request: { keyName: string; keyPassword: PasswordInput; signatureAlgorithm: string; gated: GatedUse },
    build: (key: Key, signer: (data: Buffer) => Promise<Buffer>) => Promise<T>,
  ): Promise<T> {
    const startedAt = performance.now();
    refuseDerivationFor(splitKeyName(request.keyName).path, 'certificates');
    const { key, ready, spend } = await this.resolver.ready(
      partition,
      request.keyName,
      request.keyPassword,
      'sign',
      request.gated,
    );
    await this.gate.spend(spend, { countUse: true });
    const result = await build(key, (data) =>
      sign(ready, { signatureAlgorithm: request.signatureAlgorithm, payload: data }),
    );
    await this.uses.used(key, 'sign', {
      startedAt,
      authorization: request.gated.authorization,
      approvalsSpent: spend !== null,
    });
    return result;
  }

  /** Checks a sign request's algorithm, signature type and payload against the key, without signing. */
  checkSignRequest(key: Key, input: SignInput): void {
    refuseKeyObject(input.signKeyObject);
    checkSignRequest(normalizeAlgorithm(key.algorithm), key.curveOid, {
      signatureAlgorithm: input.signatureAlgorithm,
      payload: signPayloadOf(input.payload, input.payloadType, 'signRequest.payload'),
      signatureType: input.signatureType ?? null,
      payloadType: input.payloadType ?? null,
      context: optionalBinary(input.context, 'signRequest.context'),
    });
  }
}
