/** The 0x1056 timestamp signature: DER SEQUENCE { AlgorithmIdentifier, BIT STRING (ECDSA-Sig-Value) }. */
import {
  Asn1Error,
  type Asn1Node,
  bitString,
  children,
  decode,
  expectTag,
  readBitString,
  readObjectIdentifier,
  sequence,
  TAG,
} from '../crypto/der.js';
import { TsbError } from '../errors.js';

const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
/** DER AlgorithmIdentifier { ecdsa-with-SHA256, NULL }, as in the TSB samples. */
const ECDSA_WITH_SHA256_ALGORITHM = Buffer.from('300c06082a8648ce3d0403020500', 'hex');

export function wrapTimestampSignature(ecdsaSignature: Buffer): Buffer {
  checkEcdsaSigValue(ecdsaSignature, 'timestamp signature');
  return sequence(ECDSA_WITH_SHA256_ALGORITHM, bitString(ecdsaSignature));
}

export function unwrapTimestampSignature(value: Buffer): Buffer {
  const what = 'challenge timestamp signature';
  try {
    const parts = children(expectTag(decode(value), TAG.SEQUENCE, 'SEQUENCE'));
    const [algorithm, bits] = parts;
    if (parts.length !== 2 || algorithm?.tag !== TAG.SEQUENCE || bits?.tag !== TAG.BIT_STRING) {
      throw new Asn1Error('expected SEQUENCE { AlgorithmIdentifier, BIT STRING }');
    }
    checkEcdsaWithSha256(children(algorithm));
    const signature = Buffer.from(readBitString(bits));
    checkEcdsaSigValue(signature, what);
    return signature;
  } catch (err) {
    if (err instanceof Asn1Error) throw invalid(`${what}: ${err.message}`);
    throw err;
  }
}

function checkEcdsaWithSha256(algorithm: Asn1Node[]): void {
  const [oid, parameters] = algorithm;
  if (algorithm.length !== 2 || !oid || parameters?.tag !== TAG.NULL || parameters.content.length !== 0) {
    throw new Asn1Error('AlgorithmIdentifier must be { ecdsa-with-SHA256, NULL }');
  }
  const dotted = readObjectIdentifier(oid);
  if (dotted !== OID_ECDSA_WITH_SHA256) throw new Asn1Error(`algorithm ${dotted} is not ecdsa-with-SHA256`);
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, both positive and minimally encoded. */
function checkEcdsaSigValue(signature: Buffer, what: string): void {
  try {
    const parts = children(expectTag(decode(signature), TAG.SEQUENCE, 'SEQUENCE'));
    const positiveIntegers = parts.every(
      (part) => part.tag === TAG.INTEGER && isMinimalPositive(part.content),
    );
    if (parts.length !== 2 || !positiveIntegers) throw new Asn1Error('not an ECDSA-Sig-Value');
  } catch (err) {
    if (err instanceof Asn1Error) throw invalid(`${what}: ${err.message}`);
    throw err;
  }
}

function isMinimalPositive(bytes: Uint8Array): boolean {
  if (bytes.length === 0 || (bytes[0]! & 0x80) !== 0) return false;
  if (bytes[0] === 0 && (bytes.length === 1 || (bytes[1]! & 0x80) === 0)) return false;
  return true;
}

const invalid = (message: string): TsbError => new TsbError('INPUT_VALIDATION_FAILED', message);
