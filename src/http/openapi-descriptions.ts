/**
 * What each operation does, beyond its one-line summary, and what its success answer is: the OpenAPI
 * `description` of operations and of their 2xx responses, by operationId. A route that declares its own
 * description keeps it; test/e2e/openapi.test.ts fails for an operation described nowhere.
 */
export interface OperationDescription {
  /** the operation's description (Markdown) */
  description: string;
  /** the description of its success answer */
  success: string;
}

const SKA_REQUEST =
  'The request waits for the approvals of the rule; poll `GET /v1/request/{id}` (or take the webhook) for ' +
  'its status and, once EXECUTED, its result. A key without the rule answers 400 (use the synchronous endpoint).';
const TASK_LIST =
  'The approver proves possession of its key by signing a fresh `timestamp` (within the approval window) ' +
  'and names itself by public key or certificate; the answer lists its open tasks with the challenge ' +
  '(`approvalToBeSigned`) to sign, in the detail of `detailLevel` (level1 to level5). Without credentials ' +
  'the listing covers every partition the approver appears in.';
const OFFICER =
  'Security officer endpoints act on the caller’s partition; changes need two officers (docs/security-officers.md).';

const ops = (entries: Record<string, [string, string]>): Record<string, OperationDescription> =>
  Object.fromEntries(
    Object.entries(entries).map(([id, [description, success]]) => [id, { description, success }]),
  );

export const OPERATION_DESCRIPTIONS: Record<string, OperationDescription> = ops({
  healthz: [
    'Liveness: answers as long as the process runs its event loop. No dependency is checked.',
    'alive',
  ],
  readyz: [
    'Readiness for a load balancer: the database answers and the master key opens the stored partitions. ' +
      'Redis is reported but does not make the service unready (synchronous operations do not need it).',
    'ready (or degraded: Redis unreachable)',
  ],
  createKey: [
    'Generates a key in the HSM with the given algorithm, size or curve and attributes. With a `policy` ' +
      '(Smart Key Attributes) its use, block, unblock and modify operations need approvals. The answer is the ' +
      'key’s attribute statement signed by the partition attestation key.',
    'the new key’s signed attributes',
  ],
  getKeys: ['The labels of every key in the caller’s partition, sorted.', 'key labels'],
  getKeyAttributesWithKeyPassword: [
    'The key’s attributes, policy, public key and use count as JSON and as XML signed by the partition ' +
      'attestation key. A key with a password needs it.',
    'the signed key attributes',
  ],
  getKeyAttributes: [
    'As `POST /v1/key/attributes`, for keys without a password.',
    'the signed key attributes',
  ],
  deleteKey: [
    'Deletes a key whose `destroyable` attribute is set. With key invalidation on (partition policy) it goes ' +
      'to the trash bin instead.',
    'deleted (empty body)',
  ],
  deleteKeyWithPassword: [
    'As `DELETE /v1/key/{keyName}`, for a key with a password.',
    'deleted (empty body)',
  ],
  importPlainKey: [
    'Stores key material given in plain: PKCS#8 private key with its public key or certificate, a raw secret ' +
      'key, or a public key or certificate alone (a verify-only key). Imported keys are never ' +
      '`alwaysSensitive` or `neverExtractable`.',
    'the imported key’s signed attributes',
  ],
  importKey: [
    'Imports the BIP32 or SLIP-10 master key derived from a seed, for deriving wallet keys in the HSM; a body ' +
      'without seed is a plain import.',
    'the imported key’s signed attributes',
  ],
  exportPlainKey: [
    'Answers the key material in plain. Only for keys created `extractable` and not `sensitive`, without an ' +
      'SKA policy, in a partition whose policy allows export.',
    'the key material (base64 DER)',
  ],
  changePassword: [
    'Sets (no `password`), changes or removes (no `newPassword`) the password that protects a key’s use.',
    'changed (empty body)',
  ],
  getVersionInfo: ['The service and API versions, as the TSB reports them.', 'version information'],
  getLicenseInfo: ['The TSB licence flags; OpenTSB reports every feature as licensed.', 'licence flags'],
  getKeystoreStatistics: [
    'How many keys of each kind the caller’s partition holds, and the key cache figures of this process.',
    'statistics',
  ],
  generateRandom: [
    'Random bytes from the HSM core’s generator (node:crypto CSPRNG).',
    'the random bytes (base64)',
  ],
  synchronousSign: [
    'Signs the payload (or, for NONE* algorithms, the given digest) with the named key and answers the ' +
      'signature at once. Keys whose SKA `ruleUse` needs approvals accept pre-signed `signedApprovals`, ' +
      'else use `POST /v1/sign`. `signatureAlgorithm` is one of the key’s family (e.g. SHA256_WITH_ECDSA, ' +
      'EDDSA, SHA256_WITH_RSA_PSS, ML_DSA, SLH_DSA, LMS, XMSS); TSB clients may also send the algorithm OID.',
    'the signature (base64; DER, RAW or ETH per signatureType)',
  ],
  verifySignature: [
    'Verifies a signature with the public key of the named key (`verifySignatureRequest`), or an HMAC with ' +
      'a secret key (`verifyHmacRequest`). An invalid signature is `signatureValid: false`, not an error.',
    'whether the signature is valid',
  ],
  hmac: ['Computes HMAC-SHA-256 of the payload with a secret key whose `sign` attribute is set.', 'the MAC'],
  encrypt: [
    'Encrypts with a secret key (AES_GCM, AES_CBC_NO_PADDING, AES_CTR, AES_ECB, CHACHA20_POLY1305, CAMELLIA, ' +
      'TDEA, …) or the public key of an RSA key (RSA_PADDING_OAEP_WITH_SHA256, …). The service chooses the IV ' +
      'or nonce and answers it.',
    'the ciphertext, IV and authentication tag',
  ],
  synchronousDecrypt: [
    'Decrypts with the named key and answers the plaintext at once. Keys whose SKA `ruleUse` needs ' +
      'approvals accept pre-signed `signedApprovals`, else use `POST /v1/decrypt`.',
    'the plaintext (base64)',
  ],
  wrap: [
    'Exports a key encrypted under a wrapping key (AES key wrap with padding, RSA OAEP, ML-KEM). The key to ' +
      'wrap must allow it (`extractable`) and the wrapping key must have `wrap`.',
    'the wrapped key (base64)',
  ],
  synchronousUnwrap: [
    'Decrypts a wrapped key with the unwrapping key and stores it as a new key with the given label, ' +
      'attributes and policy.',
    'unwrapped and stored (empty body)',
  ],
  getKeyAddressWithKeyPassword: [
    'The cryptocurrency address (BTC, ETH, XLM, XRP or IOTA) of a key created with an `addressFormat`.',
    'the address',
  ],
  deriveKey: [
    'Derives a BIP32 (secp256k1) or SLIP-10 (Ed25519, P-256) child key along the path that ends the label ' +
      'and stores it as a new key.',
    'the derived key’s label, derivation type, chain code and path',
  ],
  fileEncryption: [
    'Encrypts an uploaded file with ECIES to the public key of an EC key and answers the encrypted file.',
    'the encrypted file',
  ],
  synchronousBlock: [
    'Blocks a key without SKA `ruleBlock`: every use is refused until unblocked.',
    'blocked (empty body)',
  ],
  synchronousUnblock: ['Unblocks a key without SKA `ruleUnblock`.', 'unblocked (empty body)'],
  synchronousModify: [
    'Replaces the SKA policy of a key without `ruleModify` (a key that had no policy cannot gain one).',
    'modified (empty body)',
  ],
  sign: [
    `Starts a signature with a key whose SKA \`ruleUse\` needs approvals. ${SKA_REQUEST}`,
    'the request id',
  ],
  decrypt: [
    `Starts a decryption with a key whose SKA \`ruleUse\` needs approvals. ${SKA_REQUEST}`,
    'the request id',
  ],
  unwrap: [
    `Starts an unwrap with a key whose SKA \`ruleUse\` needs approvals. ${SKA_REQUEST}`,
    'the request id',
  ],
  block: [`Starts blocking a key under its SKA \`ruleBlock\`. ${SKA_REQUEST}`, 'the request id'],
  unblock: [`Starts unblocking a key under its SKA \`ruleUnblock\`. ${SKA_REQUEST}`, 'the request id'],
  modify: [`Starts replacing a key’s SKA policy under its \`ruleModify\`. ${SKA_REQUEST}`, 'the request id'],
  signCsrWithSkaKey: [`Starts a CSR of an SKA key. ${SKA_REQUEST}`, 'the request id'],
  selfSignCertificateWithSkaKey: [
    `Starts a self-signed certificate of an SKA key. ${SKA_REQUEST}`,
    'the request id',
  ],
  signCertificateWithSkaKey: [
    `Starts issuing a certificate with an SKA CA key. ${SKA_REQUEST}`,
    'the request id',
  ],
  getRequestStatus: [
    'The status of a request of the caller’s partition (PENDING, APPROVED, EXECUTED, FAILED, EXPIRED, ' +
      'REJECTED, CANCELLED), who approved or rejected it and, once EXECUTED, its result.',
    'the request status',
  ],
  cancelRequest: [
    'Cancels a request that is still PENDING or APPROVED; its tasks disappear from the approvers’ lists.',
    'cancelled (empty body)',
  ],
  filteredRequests: [
    'The partition’s requests, newest or oldest first, filtered by status.',
    'a page of requests',
  ],
  filterSignTasks: [TASK_LIST, 'the approver’s sign tasks'],
  filterDecryptTasks: [TASK_LIST, 'the approver’s decrypt tasks'],
  filterUnwrapKeyTasks: [TASK_LIST, 'the approver’s unwrap tasks'],
  filterBlockKeyTasks: [TASK_LIST, 'the approver’s block tasks'],
  filterUnblockKeyTasks: [TASK_LIST, 'the approver’s unblock tasks'],
  filterModifyKeyTasks: [TASK_LIST, 'the approver’s modify tasks'],
  filterAllTasks: [TASK_LIST, 'all the approver’s tasks'],
  approveTask: [
    'Approves a task: `signature` is the approver’s signature over the base64-decoded `approvalToBeSigned` ' +
      '(docs/approval-challenge.md). When the quorum is reached and any timelock has passed, the operation ' +
      'runs and the request becomes EXECUTED.',
    'approval recorded (empty body)',
  ],
  rejectTask: [
    'Rejects a task with the approver’s signature over its `rejectionToBeSigned`; the request becomes ' +
      'REJECTED once no quorum can be reached any more.',
    'rejection recorded (empty body)',
  ],
  getKeyAttestation: [
    'A ZIP with the key’s attribute statement (XML), its signature by the partition attestation key and the ' +
      'attestation certificate chain, for a third party to check where the key lives.',
    'the attestation ZIP',
  ],
  getAttestationCertificates: [
    'The certificates of the partition’s attestation and timestamp keys and their chain, to check key ' +
      'attestations, approval timestamps and audit checkpoints.',
    'the certificates (PEM)',
  ],
  createRfcTimestamp: [
    'An RFC 3161 time-stamp token over the given digest.',
    'the time-stamp token (DER, base64)',
  ],
  exportAuditLog: [
    'The partition’s hash-chained audit log as JSON lines (docs/audit-log.md), ending in a checkpoint signed ' +
      'now by the partition attestation key.',
    'the audit log (JSON lines)',
  ],
  verifyAuditLog: [
    'Checks an exported audit log: hash chain, checkpoint signatures and coverage. Larger logs: `tsb audit verify`.',
    'the verification report',
  ],
  signCsr: [
    'Creates a PKCS#10 CSR signed by the key, with the subject and extensions given.',
    'the CSR (PEM)',
  ],
  signCsrDownload: [
    'As `POST /v1/certificate/synchronous/request`, answered as a file download.',
    'the CSR file (PEM)',
  ],
  selfSignCertificate: [
    'Creates a self-signed X.509 certificate for the key and stores it on the key.',
    'the certificate (PEM)',
  ],
  createSelfSignedCertificate: [
    'The older name of `POST /v1/certificate/synchronous/selfsign`, same body and answer.',
    'the certificate (PEM)',
  ],
  signCertificate: [
    'Issues a certificate for a CSR, signed by a CA key that holds a certificate (the issuer).',
    'the certificate (PEM)',
  ],
  importPlainCertificate: [
    'Stores a certificate on the key whose public key it certifies, replacing the one it held.',
    'stored (empty body)',
  ],
  getCertificate: ['The certificate stored on a key.', 'the certificate (PEM and base64 DER)'],
  deleteCertificate: ['Removes the certificate stored on a key; the key stays.', 'removed (empty body)'],
  getPartitionPolicy: [
    `The partition’s policy flags (export, key invalidation, …). ${OFFICER}`,
    'the partition policy',
  ],
  listSecurityOfficers: [`The registered security officers of the partition. ${OFFICER}`, 'the officers'],
  listOfficerProposals: [`Proposals of the partition, newest first. ${OFFICER}`, 'the proposals'],
  createOfficerProposal: [
    `Proposes a change (policy flag, officer, key restore…) signed by a registered officer. ${OFFICER}`,
    'the proposal',
  ],
  approveOfficerProposal: [
    `A second officer approves a proposal, which then runs. ${OFFICER}`,
    'the proposal, executed',
  ],
  rejectOfficerProposal: [`A second officer rejects a proposal. ${OFFICER}`, 'the proposal, rejected'],
  listInvalidatedKeys: [
    `Keys deleted while key invalidation is on, which an officer proposal can restore. ${OFFICER}`,
    'the keys in the trash bin',
  ],
  exportPartitionBackup: [
    `The whole partition as one backup document; key material stays sealed under the master key. ${OFFICER}`,
    'the backup document',
  ],
});
