import { splitKeyName } from '../../crypto/derivation/key-derivation.js';
import { TsbError } from '../../errors.js';
import type { Key, Partition } from '../../generated/prisma/client.js';
import type { PasswordInput } from '../../keystore/key-password.js';
import type { KeyStore } from '../../keystore/keys/key-store.js';
import type { SignedKeyAttributes } from '../../keystore/keys/key-store.types.js';
import type { UseCounter } from '../../keystore/use-counter.js';
import type { ApprovalGate, Authorization } from '../approval-gate.js';
import { authorizeKeyUse, type KeyUse } from '../key-usage.js';
import { DeriveAddressOperations } from './derive-address.js';
import { EncryptDecryptOperations } from './encrypt-decrypt.js';
import type {
  DecryptInput,
  DeriveInput,
  EncryptInput,
  EncryptResponse,
  FileEncryptInput,
  KeyOperationEvent,
  SignInput,
  UnwrapInput,
  VerifyInput,
  WrapInput,
} from './key-operations.types.js';
import { type GatedUse, KeyResolver } from './key-resolver.js';
import { OperationUses } from './operation-uses.js';
import { SignVerifyOperations } from './sign-verify.js';
import { WrapUnwrapOperations } from './wrap-unwrap.js';

/**
 * The synchronous key operations of the TSB (reference §2.3) on top of the key store: resolve the key
 * (key-resolver.ts: a derivation path suffix, attributes, block status, SKA ruleUse and partition flags),
 * run the mechanism, and count the use. The facade over `operations/`, one file per kind of operation.
 */
export class KeyOperations {
  private readonly keys: KeyStore;
  private readonly uses: OperationUses;
  private readonly signing: SignVerifyOperations;
  private readonly ciphers: EncryptDecryptOperations;
  private readonly wrapping: WrapUnwrapOperations;
  private readonly derivation: DeriveAddressOperations;

  constructor(keys: KeyStore, useCounter: UseCounter, gate: ApprovalGate) {
    const resolver = new KeyResolver(keys, gate);
    this.keys = keys;
    this.uses = new OperationUses(useCounter);
    this.signing = new SignVerifyOperations(resolver, gate, this.uses, keys);
    this.ciphers = new EncryptDecryptOperations(keys, resolver, gate, this.uses);
    this.wrapping = new WrapUnwrapOperations(keys, resolver, gate, this.uses);
    this.derivation = new DeriveAddressOperations(keys, resolver, this.uses);
  }

  /** Calls `observer` after every completed operation (metrics); answers the function that stops it. */
  observe(observer: (event: KeyOperationEvent) => void): () => void {
    return this.uses.observe(observer);
  }

  sign(partition: Partition, input: SignInput, authorization: Authorization | null): Promise<Buffer> {
    return this.signing.sign(partition, input, authorization);
  }

  verify(partition: Partition, input: VerifyInput): Promise<boolean> {
    return this.signing.verify(partition, input);
  }

  hmac(
    partition: Partition,
    input: { keyName: string; keyPassword?: PasswordInput; payload: string },
  ): Promise<Buffer> {
    return this.signing.hmac(partition, input);
  }

  /** Signs bytes the HSM core builds itself (a certificate, a CSR): see `SignVerifyOperations.signBuilt`. */
  signBuilt<T>(
    partition: Partition,
    request: { keyName: string; keyPassword: PasswordInput; signatureAlgorithm: string; gated: GatedUse },
    build: (key: Key, signer: (data: Buffer) => Promise<Buffer>) => Promise<T>,
  ): Promise<T> {
    return this.signing.signBuilt(partition, request, build);
  }

  /** Checks a sign request's algorithm, signature type and payload against the key, without signing. */
  checkSignRequest(key: Key, input: SignInput): void {
    this.signing.checkSignRequest(key, input);
  }

  encrypt(partition: Partition, input: EncryptInput): Promise<EncryptResponse> {
    return this.ciphers.encrypt(partition, input);
  }

  fileEncrypt(partition: Partition, input: FileEncryptInput, file: Buffer): Promise<Buffer> {
    return this.ciphers.fileEncrypt(partition, input, file);
  }

  decrypt(partition: Partition, input: DecryptInput, authorization: Authorization | null): Promise<Buffer> {
    return this.ciphers.decrypt(partition, input, authorization);
  }

  /** Checks a decrypt request's cipher name and payload against the key, without decrypting. */
  checkDecryptRequest(key: Key, input: DecryptInput): void {
    this.ciphers.checkDecryptRequest(key, input);
  }

  wrap(partition: Partition, input: WrapInput): Promise<Buffer> {
    return this.wrapping.wrap(partition, input);
  }

  unwrap(
    partition: Partition,
    input: UnwrapInput,
    authorization: Authorization | null,
    options: { requestId?: string } = {},
  ): Promise<SignedKeyAttributes> {
    return this.wrapping.unwrap(partition, input, authorization, options);
  }

  /** Derives the child named by `label/path` and stores it as a new key (`POST /v1/derivedKey`). */
  derive(
    partition: Partition,
    input: DeriveInput,
  ): Promise<{ label: string; derivationType: string; derivationValue: string; path: string }> {
    return this.derivation.derive(partition, input);
  }

  /** The address of a key created with an addressFormat (`POST /v1/key/address`), also for a derived child. */
  address(partition: Partition, keyName: string, password?: PasswordInput): Promise<string> {
    return this.derivation.address(partition, keyName, password);
  }

  /**
   * Checks, before an SKA request is stored, what can be checked without approvals: the key exists, the
   * password fits, the partition flags and the key's attributes and block status allow `use`.
   */
  async checkUse(partition: Partition, keyName: string, password: PasswordInput, use: KeyUse): Promise<Key> {
    const { label, path } = splitKeyName(keyName);
    const key = await this.keys.unlock(partition, label, password, { cached: true });
    if (path && path.length > 0) authorizeKeyUse(partition, key, 'derive', { secretKey: true });
    authorizeKeyUse(partition, key, use, { secretKey: true });
    if (use === 'unwrap' && !partition.allowKeyImport) {
      throw new TsbError(
        'SECURITY_NOT_ALLOWED',
        'the partition security policy does not allow importing keys, wrapped or plain',
      );
    }
    return key;
  }
}
