/**
 * Reading a security officer's public key from what an operator has at hand: a PEM or DER
 * SubjectPublicKeyInfo, or a PEM or DER X.509 certificate (only its public key counts). Officer keys are
 * the key types SKA approvers may have, and are identified the same way (SHA-256 of the SPKI).
 */
import { X509Certificate } from 'node:crypto';
import { TsbError } from '../../errors.js';
import {
  type ApproverKeyInfo,
  parseApproverCertificate,
  parseApproverPublicKey,
} from '../../ska/approver-key.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/;

export function parseOfficerKey(data: Uint8Array, where = 'officer key'): ApproverKeyInfo {
  const text = Buffer.from(data).toString('latin1');
  const pem = PEM_BLOCK.exec(text);
  if (pem) {
    const der = Buffer.from(pem[2]!.replace(/\s+/g, ''), 'base64');
    if (pem[1] === 'PUBLIC KEY') return parseApproverPublicKey(der, where);
    if (pem[1] === 'CERTIFICATE') return parseApproverCertificate(der, where);
    throw new TsbError(
      'PARSING_KEY',
      `${where}: a PEM "${pem[1]}" block is neither a PUBLIC KEY nor a CERTIFICATE (give the public key, never the private one)`,
    );
  }
  if (isCertificate(data)) return parseApproverCertificate(data, where);
  return parseApproverPublicKey(data, where);
}

function isCertificate(der: Uint8Array): boolean {
  try {
    new X509Certificate(Buffer.from(der));
    return true;
  } catch {
    return false;
  }
}
