import { ml_dsa44, ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { derToRaw } from '../../../src/crypto/signatures/signature-encoding.js';
import {
  APPROVAL_DIGEST_ALGORITHMS,
  canonicalDigestAlgorithm,
  verifyApproverSignature,
  verifyApproverSignatureAsync,
} from '../../../src/ska/approval-signature.js';
import {
  type ApproverKeyInfo,
  parseApproverCertificate,
  parseApproverPublicKey,
} from '../../../src/ska/approver-key.js';
import { placeCheapCrypto } from '../../helpers/event-loop.js';
import { type OpensslSignature, opensslSign } from '../../helpers/signatures.js';
import { bitString, errorOf, ML_DSA_OIDS, oid, seq, tsbSample } from './helpers.js';

const b64 = (text: string) => Buffer.from(text, 'base64');

const DATA = Buffer.from('approval challenge bytes \x00\x01\x02', 'latin1');

function flipped(signature: Buffer, bit = 0): Buffer {
  const copy = Buffer.from(signature);
  copy[Math.floor(copy.length / 2)]! ^= 1 << bit;
  return copy;
}

interface Signed extends OpensslSignature {
  key: ApproverKeyInfo;
}

async function signWithOpenssl(
  genpkey: string[],
  sign: { digest: string } | 'raw',
  data: Buffer = DATA,
): Promise<Signed> {
  const signed = await opensslSign(genpkey, data, sign);
  return { ...signed, key: parseApproverPublicKey(signed.spki) };
}

const RSA = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
const ec = (curve: string) => ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`];
const ED25519 = ['-algorithm', 'ED25519'];

/** openssl dgst digest option → the name an approver sends. */
const DIGESTS: [string, string][] = [
  ['sha224', 'SHA-224'],
  ['sha256', 'SHA-256'],
  ['sha384', 'SHA-384'],
  ['sha512', 'SHA-512'],
  ['sha3-256', 'SHA3-256'],
  ['sha3-512', 'SHA3-512'],
];

describe('verifyApproverSignature with signatures made by the openssl CLI', () => {
  const cases: [string, string[], [string, string][]][] = [
    ['RSA-2048 PKCS#1 v1.5', RSA, DIGESTS],
    ['EC P-256', ec('P-256'), DIGESTS],
    ['EC P-384', ec('P-384'), [DIGESTS[1]!, DIGESTS[2]!, DIGESTS[4]!]],
    ['EC P-521', ec('P-521'), [DIGESTS[1]!, DIGESTS[3]!, DIGESTS[5]!]],
    ['EC secp256k1', ec('secp256k1'), [DIGESTS[1]!, DIGESTS[4]!]],
  ];

  describe.each(cases)('%s', (_name, genpkey, digests) => {
    const signed = new Map<string, Signed>();
    let otherKey: ApproverKeyInfo;
    beforeAll(async () => {
      for (const [option] of digests) signed.set(option, await signWithOpenssl(genpkey, { digest: option }));
      otherKey = (await signWithOpenssl(genpkey, { digest: 'sha256' })).key;
    });

    it.each(digests)('accepts openssl dgst -%s as %s', (option, name) => {
      const { key, signature } = signed.get(option)!;
      expect(verifyApproverSignature(key, DATA, signature, name)).toBe(true);
    });

    it.each(digests)(
      'refuses -%s with a flipped bit, other data, another key or another digest',
      (option, name) => {
        const { key, signature } = signed.get(option)!;
        expect(verifyApproverSignature(key, DATA, flipped(signature), name)).toBe(false);
        expect(verifyApproverSignature(key, Buffer.from('other data'), signature, name)).toBe(false);
        expect(verifyApproverSignature(otherKey, DATA, signature, name)).toBe(false);
        const otherDigest = name === 'SHA-256' ? 'SHA-384' : 'SHA-256';
        expect(verifyApproverSignature(key, DATA, signature, otherDigest)).toBe(false);
      },
    );

    it('returns false for malformed signature bytes', () => {
      const { key } = signed.get(digests[0]![0])!;
      for (const junk of [
        Buffer.alloc(0),
        Buffer.of(0x30),
        Buffer.alloc(10, 0xff),
        Buffer.alloc(4096, 0x30),
      ]) {
        expect(verifyApproverSignature(key, DATA, junk, digests[0]![1])).toBe(false);
      }
    });

    it('refuses the one-shot algorithm names EdDSA and ML-DSA with 600', () => {
      const { key, signature } = signed.get(digests[0]![0])!;
      for (const name of ['EdDSA', 'ML-DSA']) {
        const err = errorOf(() => verifyApproverSignature(key, DATA, signature, name));
        expect(err.errorCode).toBe(600);
        expect(err.message).toContain(key.keyAlgorithm);
      }
    });
  });

  it.each([
    ['P-256', 32],
    ['P-384', 48],
    ['P-521', 66],
    ['secp256k1', 32],
  ] as const)(
    'EC %s: a raw r ‖ s signature is accepted too, and still checked',
    async (curve, fieldBytes) => {
      const { key, signature } = await signWithOpenssl(ec(curve), { digest: 'sha256' });
      const raw = derToRaw(signature, fieldBytes);
      expect(raw).toHaveLength(2 * fieldBytes);
      expect(verifyApproverSignature(key, DATA, raw, 'SHA-256')).toBe(true);
      expect(verifyApproverSignature(key, DATA, flipped(raw), 'SHA-256')).toBe(false);
      expect(verifyApproverSignature(key, DATA, raw.subarray(1), 'SHA-256')).toBe(false);
    },
  );

  describe('Ed25519 (openssl pkeyutl -sign -rawin)', () => {
    let signed: Signed;
    let otherKey: ApproverKeyInfo;
    beforeAll(async () => {
      signed = await signWithOpenssl(ED25519, 'raw');
      otherKey = (await signWithOpenssl(ED25519, 'raw')).key;
    });

    it.each(['EdDSA', 'eddsa', 'SHA-512', 'SHA-256', 'SHA3-256'])(
      'accepts with digest name %s (ignored)',
      (name) => {
        expect(verifyApproverSignature(signed.key, DATA, signed.signature, name)).toBe(true);
      },
    );

    it('refuses a flipped bit, other data, another key and malformed bytes', () => {
      expect(verifyApproverSignature(signed.key, DATA, flipped(signed.signature), 'EdDSA')).toBe(false);
      expect(verifyApproverSignature(signed.key, Buffer.from('x'), signed.signature, 'EdDSA')).toBe(false);
      expect(verifyApproverSignature(otherKey, DATA, signed.signature, 'EdDSA')).toBe(false);
      expect(verifyApproverSignature(signed.key, DATA, signed.signature.subarray(1), 'EdDSA')).toBe(false);
      expect(verifyApproverSignature(signed.key, DATA, Buffer.alloc(0), 'EdDSA')).toBe(false);
    });

    it('refuses the digest name ML-DSA with 600', () => {
      expect(
        errorOf(() => verifyApproverSignature(signed.key, DATA, signed.signature, 'ML-DSA')).errorCode,
      ).toBe(600);
    });
  });
});

describe('verifyApproverSignatureAsync: the same answers on the calling thread and in the thread pool', () => {
  const cases: [string, string[], { digest: string } | 'raw', string, number?][] = [
    ['RSA-2048 PKCS#1 v1.5', RSA, { digest: 'sha256' }, 'SHA-256'],
    ['EC P-256, DER', ec('P-256'), { digest: 'sha256' }, 'SHA-256'],
    ['EC P-256, raw r ‖ s', ec('P-256'), { digest: 'sha256' }, 'SHA-256', 32],
    ['EC P-384, raw r ‖ s', ec('P-384'), { digest: 'sha384' }, 'SHA-384', 48],
    ['Ed25519', ED25519, 'raw', 'EdDSA'],
  ];

  it.each(cases)('%s (openssl CLI)', async (_name, genpkey, how, digest, rawFieldBytes) => {
    for (const busy of [false, true]) {
      // new keys each round: a valid signature verified once is remembered and not verified again
      const signed = await signWithOpenssl(genpkey, how);
      const signature = rawFieldBytes ? derToRaw(signed.signature, rawFieldBytes) : signed.signature;
      const other = (await signWithOpenssl(genpkey, how)).key;
      expect(await placeCheapCrypto(busy)).toBe(!busy);
      // issued together, in the turn the placement was decided for
      const answers = await Promise.all([
        verifyApproverSignatureAsync(signed.key, DATA, signature, digest),
        verifyApproverSignatureAsync(signed.key, DATA, flipped(signature), digest),
        verifyApproverSignatureAsync(signed.key, Buffer.from('other data'), signature, digest),
        verifyApproverSignatureAsync(other, DATA, signature, digest),
        verifyApproverSignatureAsync(signed.key, DATA, signature.subarray(1), digest),
        verifyApproverSignatureAsync(signed.key, DATA, Buffer.alloc(4096, 0x30), digest),
      ]);
      expect(answers).toEqual([true, false, false, false, false, false]);
      // and the synchronous form agrees
      expect(verifyApproverSignature(signed.key, DATA, flipped(signature), digest)).toBe(false);
      expect(verifyApproverSignature(signed.key, DATA, signature, digest)).toBe(true);
    }
  });

  it('ML-DSA-44 (noble) answers alike, and a digest name that does not fit is refused with 600', async () => {
    const { publicKey, secretKey } = ml_dsa44.keygen();
    const key = parseApproverPublicKey(seq(seq(oid(ML_DSA_OIDS[44])), bitString(publicKey)));
    const signature = Buffer.from(ml_dsa44.sign(DATA, secretKey));
    expect(await verifyApproverSignatureAsync(key, DATA, signature, 'ML-DSA')).toBe(true);
    expect(await verifyApproverSignatureAsync(key, DATA, flipped(signature), 'ML-DSA')).toBe(false);
    const err = await verifyApproverSignatureAsync(key, DATA, signature, 'EdDSA').catch((error) => error);
    expect(err.errorCode).toBe(600);
  });
});

describe('verifyApproverSignature: ML-DSA (signed with noble; OpenSSL 3.0 has no ML-DSA)', () => {
  const implementations = { 44: ml_dsa44, 65: ml_dsa65 } as const;
  const approver = (level: 44 | 65) => {
    const { publicKey, secretKey } = implementations[level].keygen();
    const key = parseApproverPublicKey(seq(seq(oid(ML_DSA_OIDS[level])), bitString(publicKey)));
    return {
      key,
      sign: (data: Uint8Array) => Buffer.from(implementations[level].sign(data, secretKey)),
      secretKey,
    };
  };

  it.each([44, 65] as const)('ML-DSA-%s: accepts pure ML-DSA over the data', (level) => {
    const { key, sign } = approver(level);
    expect(key.keyAlgorithm).toBe(`ML-DSA-${level}`);
    const signature = sign(DATA);
    for (const name of ['ML-DSA', 'ml_dsa', 'SHA-256', 'SHA3-512']) {
      expect(verifyApproverSignature(key, DATA, signature, name)).toBe(true);
    }
  });

  it.each([44, 65] as const)('ML-DSA-%s: refuses wrong signatures', (level) => {
    const { key, sign, secretKey } = approver(level);
    const signature = sign(DATA);
    expect(verifyApproverSignature(key, DATA, flipped(signature), 'ML-DSA')).toBe(false);
    expect(verifyApproverSignature(key, Buffer.from('other'), signature, 'ML-DSA')).toBe(false);
    expect(verifyApproverSignature(approver(level).key, DATA, signature, 'ML-DSA')).toBe(false);
    expect(verifyApproverSignature(key, DATA, signature.subarray(1), 'ML-DSA')).toBe(false);
    expect(verifyApproverSignature(key, DATA, Buffer.alloc(0), 'ML-DSA')).toBe(false);
    const withContext = Buffer.from(
      implementations[level].sign(DATA, secretKey, { context: Buffer.from('ctx') }),
    );
    expect(verifyApproverSignature(key, DATA, withContext, 'ML-DSA')).toBe(false);
  });

  it('a signature of another parameter set does not verify', () => {
    const small = approver(44);
    const large = approver(65);
    expect(verifyApproverSignature(large.key, DATA, small.sign(DATA), 'ML-DSA')).toBe(false);
  });

  it('refuses the digest name EdDSA with 600', () => {
    const { key, sign } = approver(44);
    expect(errorOf(() => verifyApproverSignature(key, DATA, sign(DATA), 'EdDSA')).errorCode).toBe(600);
  });
});

describe('verifyApproverSignature on the published TSB samples', () => {
  it('sample 09: the approval signature is over the base64-decoded approvalToBeSigned', () => {
    const body = tsbSample('09-approval-request.json');
    const key = parseApproverCertificate(b64(body['approverCertificate']!));
    const challenge = b64(body['approvalToBeSigned']!);
    const signature = b64(body['signature']!);
    expect(verifyApproverSignature(key, challenge, signature, body['approvalDigestAlgorithm']!)).toBe(true);
    expect(verifyApproverSignature(key, Buffer.from(body['approvalToBeSigned']!), signature, 'SHA-256')).toBe(
      false,
    );
    expect(verifyApproverSignature(key, challenge, flipped(signature), 'SHA-256')).toBe(false);
  });

  it('sample 07: RSA timestamp signature over the UTF-8 timestamp', () => {
    const body = tsbSample('07-filtered-sign-approval-task-request.json');
    const key = parseApproverCertificate(b64(body['approverCertificate']!));
    const data = Buffer.from(body['timestamp']!, 'utf8');
    expect(verifyApproverSignature(key, data, b64(body['timestampSignature']!), 'SHA-256')).toBe(true);
    expect(verifyApproverSignature(key, data, b64(body['timestampSignature']!), 'SHA-512')).toBe(false);
  });

  it('sample 20: P-384 ECDSA (DER) timestamp signature', () => {
    const body = tsbSample('20-filtered-modify-task-request-level5.json');
    const key = parseApproverPublicKey(b64(body['approverPublicKey']!));
    expect(key.keyAlgorithm).toBe('P-384');
    const data = Buffer.from(body['timestamp']!, 'utf8');
    const signature = b64(body['timestampSignature']!);
    expect(verifyApproverSignature(key, data, signature, body['timestampDigestAlgorithm']!)).toBe(true);
    expect(verifyApproverSignature(key, data, derToRaw(signature, 48), 'SHA-256')).toBe(true);
    expect(verifyApproverSignature(key, Buffer.from(`${body['timestamp']} `), signature, 'SHA-256')).toBe(
      false,
    );
  });
});

describe('digest algorithm names', () => {
  it('lists the accepted names', () => {
    expect(APPROVAL_DIGEST_ALGORITHMS).toEqual([
      'SHA-224',
      'SHA-256',
      'SHA-384',
      'SHA-512',
      'SHA3-224',
      'SHA3-256',
      'SHA3-384',
      'SHA3-512',
      'EdDSA',
      'ML-DSA',
    ]);
  });

  it.each([
    ['SHA-256', 'SHA-256'],
    ['sha-256', 'SHA-256'],
    ['SHA256', 'SHA-256'],
    ['sha_256', 'SHA-256'],
    ['SHA3-256', 'SHA3-256'],
    ['SHA3_256', 'SHA3-256'],
    ['sha3256', 'SHA3-256'],
    ['SHA224', 'SHA-224'],
    ['SHA3-224', 'SHA3-224'],
    ['eddsa', 'EdDSA'],
    ['ML_DSA', 'ML-DSA'],
  ])('%s → %s', (name, canonical) => {
    expect(canonicalDigestAlgorithm(name)).toBe(canonical);
  });

  it.each(['MD5', 'SHA-1', 'SHA1', 'SHA256withRSA', 'SHA-512/256', '', 'SHA 256'])(
    'refuses %j with 600',
    (name) => {
      const err = errorOf(() => canonicalDigestAlgorithm(name));
      expect(err.errorCode).toBe(600);
      expect(err.message).toContain(
        'SHA-224, SHA-256, SHA-384, SHA-512, SHA3-224, SHA3-256, SHA3-384, SHA3-512, EdDSA, ML-DSA',
      );
    },
  );

  it('verifyApproverSignature refuses an unknown digest name before looking at the signature', () => {
    const key = parseApproverPublicKey(
      b64(tsbSample('20-filtered-modify-task-request-level5.json')['approverPublicKey']!),
    );
    expect(errorOf(() => verifyApproverSignature(key, DATA, Buffer.alloc(0), 'MD5')).errorCode).toBe(600);
  });
});
