/**
 * A stateful hash-based signature scheme of NIST SP 800-208 (HSS/LMS, XMSS, XMSS^MT): every signature
 * uses a one-time index, and an index used twice lets anyone forge. The scheme is pure: the caller
 * reserves each index durably before it asks for the signature and never asks for an index twice.
 */
export interface StatefulScheme {
  /** the key type and signature algorithm name on the wire, e.g. `LMS`, `XMSS-SHA256_10_256` */
  readonly name: string;
  /** what a key's `algorithm` reports */
  readonly family: 'HSS-LMS' | 'XMSS' | 'XMSSMT';
  /** signatures a key can make: indices 0 … maxSignatures − 1 (at most 2^53) */
  readonly maxSignatures: number;
  /** bytes of every signature */
  readonly signatureLength: number;
  /** a new key: the private key holds the seeds (never an index), the public key is the RFC encoding */
  generate(): Promise<{ privateKey: Uint8Array; publicKey: Uint8Array }>;
  /** the signature of `message` at `index`, in the RFC encoding */
  sign(privateKey: Uint8Array, index: number, message: Uint8Array): Promise<Uint8Array>;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /** the index a signature was made at (tests check that no index repeats) */
  indexOf(signature: Uint8Array): number;
}
