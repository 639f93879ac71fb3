/**
 * Conformance: securosys-com/openbao-rest-integration (OpenBao with the Securosys HSM seal), commit
 * ac4b192582298b25a50c34018e7ba9abe44155c7 (v1.0.0).
 *
 * Read from: hsm/hsm.go, hsm/structs.go, hsm/securosysHSM_client.go and hsm/securosysHSM.go, which are those of
 * hcvault-ce-rest-integration 331e02a but for the request metadata's app ("OpenBao") and an error format string;
 * the calls are replayed by securosys-hsm-seal.ts (see there and hcvault-ce-rest-integration.test.ts). Its PKI
 * changes (builtin/logical/pki/securosys_hsm_client.go) call the secrets engine, not the TSB.
 */
import { describeSeal } from './securosys-hsm-seal.js';

describeSeal({ partition: 'openbao-ce', app: 'OpenBao' });
