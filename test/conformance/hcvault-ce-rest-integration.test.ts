/**
 * Conformance: securosys-com/hcvault-ce-rest-integration (HashiCorp Vault CE with the Securosys HSM seal), commit
 * 331e02aee61dc85b440b00cd9f1c803485671038 (v1.2.16).
 *
 * Read from: hsm/hsm.go (TSBCall: headers, API-key groups and their rollover on 401 / 631; CheckConnection,
 * GetKeyAttributes, GenerateRSA, synchronousDecrypt, decrypt, getRequest, DecryptDataWithPolicy, ModifyRSA,
 * RemoveKey, PrepareMetaData with app "Hashicorp Vault", GenerateRequestSignature, StringToCharArray),
 * hsm/structs.go (Policy, PreparePolicy, PreparePolicyTokens, RequestResponse), hsm/securosysHSM_client.go
 * (start-up: key read, creation when 404, local encryption under publicKey, the SKA decision on ruleUse groups),
 * hsm/securosysHSM.go (Type: the connection check; Decrypt: base64 twice) and http/sys_update_policy_hsm.go
 * (update-policy-hsm: ModifyRSA, 200 only). Its PKI changes (builtin/logical/pki/securosys_hsm_client.go) call
 * the Vault secrets engine, not the TSB: see hcvault-plugin-secrets-engine.test.ts.
 */
import { describeSeal } from './securosys-hsm-seal.js';

describeSeal({ partition: 'vault-ce', app: 'Hashicorp Vault' });
