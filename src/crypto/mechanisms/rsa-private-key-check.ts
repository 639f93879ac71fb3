/**
 * An imported RSA private key must be one key. OpenSSL loads PKCS#1 (also inside PKCS#8) as given: the
 * public (n, e), the exponent d and the CRT values (p, q, dP, dQ, qInv) are not checked against each
 * other. A key whose n is another key's would be stored and attested with that public key while no
 * signature it makes verifies under it; a key whose d or CRT values are off signs through whichever
 * part OpenSSL happens to use and exports as a key other software computes wrongly with.
 */
import { constants, type KeyObject, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { children, decode, readInteger } from '../der.js';
import { fail } from './key-material.js';

const MISMATCH = 'the RSA private key is inconsistent: its components do not form one key';

export function checkRsaPrivateKey(privateKey: KeyObject): void {
  const pkcs1 = children(decode(privateKey.export({ type: 'pkcs1', format: 'der' })));
  const [version, n, e, d, p, q, dP, dQ, qInv] = pkcs1.slice(0, 9).map(readInteger) as bigint[];
  // version 1 (multi-prime) keeps its further primes in otherPrimeInfos: the round trip below covers it
  if (version === 0n && !twoPrimeComponentsAgree(n!, e!, d!, p!, q!, dP!, dQ!, qInv!)) {
    throw fail('PARSING_KEY', MISMATCH);
  }
  if (!privateOperationInvertsPublic(privateKey, n!)) throw fail('PARSING_KEY', MISMATCH);
}

function twoPrimeComponentsAgree(
  n: bigint,
  e: bigint,
  d: bigint,
  p: bigint,
  q: bigint,
  dP: bigint,
  dQ: bigint,
  qInv: bigint,
): boolean {
  if (p <= 1n || q <= 1n || p * q !== n) return false;
  return (
    (e * d) % (p - 1n) === 1n % (p - 1n) &&
    (e * d) % (q - 1n) === 1n % (q - 1n) &&
    dP === d % (p - 1n) &&
    dQ === d % (q - 1n) &&
    (q * qInv) % p === 1n
  );
}

/** (m^e)^d = m for a random m < n, through the private operation OpenSSL will use for signing. */
function privateOperationInvertsPublic(privateKey: KeyObject, n: bigint): boolean {
  const size = (n.toString(16).length + 1) >> 1;
  const message = randomBytes(size);
  message[0] = 0; // below n, whose first byte is not 0
  message.writeUInt8(message.readUInt8(size - 1) | 2, size - 1); // not 0 or 1, whose powers are themselves
  try {
    const cipher = publicEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, message);
    const plain = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, cipher);
    return plain.equals(message);
  } catch {
    return false;
  }
}
