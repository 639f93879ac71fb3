/**
 * An imported RSA private key must be one key. OpenSSL loads PKCS#1 (also inside PKCS#8) as given: the
 * public (n, e), the exponent d and the CRT values are not checked against each other. A key whose n is
 * another key's would be stored and attested with that public key while no signature it makes verifies
 * under it; a key whose d or CRT values are off signs through whichever part OpenSSL happens to use, and
 * exports as a key other software computes wrongly with. The check is arithmetic only (no exponentiation),
 * so an RSA-16384 import does not hold the event loop. Whoever knows no factors of another key's n cannot
 * pass it with that n: its only factorisations are 1 · n and its primes'.
 */
import type { KeyObject } from 'node:crypto';
import { children, decode, readInteger } from '../der.js';
import { fail } from './key-material.js';

const MISMATCH = 'the RSA private key is inconsistent: its components do not form one key';

interface PrimeInfo {
  prime: bigint;
  exponent: bigint;
  /** the CRT coefficient: the product of the primes before this one, inverted modulo this prime */
  coefficient: bigint;
}

export function checkRsaPrivateKey(privateKey: KeyObject): void {
  const fields = children(decode(privateKey.export({ type: 'pkcs1', format: 'der' })));
  const [, n, e, d, p, q, dP, dQ, qInv] = fields.slice(0, 9).map(readInteger) as bigint[];
  // RFC 8017 A.1.2: the coefficient of q is q⁻¹ mod p; version 1 keys list further primes (r, d, t) after it
  const primes: PrimeInfo[] = [
    { prime: p!, exponent: dP!, coefficient: 0n },
    { prime: q!, exponent: dQ!, coefficient: qInv! },
    ...(fields[9] ? children(fields[9]) : []).map((info) => {
      const [prime, exponent, coefficient] = children(info).map(readInteger) as bigint[];
      return { prime: prime!, exponent: exponent!, coefficient: coefficient! };
    }),
  ];
  if (!componentsAgree(n!, e!, d!, primes)) throw fail('PARSING_KEY', MISMATCH);
}

function componentsAgree(n: bigint, e: bigint, d: bigint, primes: PrimeInfo[]): boolean {
  let product = 1n;
  for (const [index, { prime, exponent, coefficient }] of primes.entries()) {
    if (prime <= 2n) return false;
    const order = prime - 1n;
    if ((e * d) % order !== 1n || exponent !== d % order) return false;
    // q · qInv ≡ 1 (mod p); a further prime's t: (r₁ ⋯ rᵢ₋₁) · tᵢ ≡ 1 (mod rᵢ)
    const coefficientAgrees =
      index === 0 ||
      (index === 1
        ? (prime * coefficient) % primes[0]!.prime === 1n
        : (product * coefficient) % prime === 1n);
    if (!coefficientAgrees) return false;
    product *= prime;
  }
  return product === n;
}
