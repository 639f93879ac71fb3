/** The signing keys the benchmark measures, shared by the bench driver and the baseline server. */
export interface BenchCase {
  /** Name in the results table. */
  name: string;
  /** Key label in the bench partition. */
  label: string;
  /** Body of POST /v1/key (without label and attributes). */
  key: { algorithm: string; curveOid?: string; keySize?: number };
  signatureAlgorithm: string;
  /** Typical signature length in bytes: the baseline server answers a constant of this size. */
  signatureBytes: number;
}

export const BENCH_CASES: readonly BenchCase[] = [
  {
    name: 'Ed25519',
    label: 'bench-ed25519',
    key: { algorithm: 'ED', curveOid: '1.3.101.112' },
    signatureAlgorithm: 'EDDSA',
    signatureBytes: 64,
  },
  {
    name: 'P-256',
    label: 'bench-p256',
    key: { algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7' },
    signatureAlgorithm: 'SHA256_WITH_ECDSA',
    signatureBytes: 71,
  },
  {
    name: 'secp256k1',
    label: 'bench-secp256k1',
    key: { algorithm: 'EC', curveOid: '1.3.132.0.10' },
    signatureAlgorithm: 'SHA256_WITH_ECDSA',
    signatureBytes: 71,
  },
  {
    name: 'RSA-2048',
    label: 'bench-rsa2048',
    key: { algorithm: 'RSA', keySize: 2048 },
    signatureAlgorithm: 'SHA256_WITH_RSA',
    signatureBytes: 256,
  },
  {
    name: 'ML-DSA-65',
    label: 'bench-mldsa65',
    key: { algorithm: 'ML-DSA-65' },
    signatureAlgorithm: 'ML_DSA',
    signatureBytes: 3309,
  },
];
