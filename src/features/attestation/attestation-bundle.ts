import { certificatePem, publicKeyPem } from '../../crypto/x509/x509.js';
import { createZip } from '../../lib/zip.js';

export const CHAIN_FILE = 'PrimusHSM_Attestation.crt';
export const ROOT_FILE = 'root.crt';

/**
 * The file name stem of a key label: characters other than letters, digits, ".", "_" and "-" become "_",
 * and a leading "." or "-" gets a "_" in front, so the name is safe in any file system and shell command.
 */
export function fileStem(label: string): string {
  const stem = label.replace(/[^A-Za-z0-9._-]/g, '_');
  return /^[.-]/.test(stem) ? `_${stem}` : stem;
}

export interface AttestationBundleInput {
  label: string;
  partitionName: string;
  /** the key statement, exactly as signed */
  xml: string;
  /** DER ECDSA signature of the attestation key over the UTF-8 XML */
  signature: Buffer;
  /** SPKI DER of the partition attestation key */
  attestationPublicKey: Buffer;
  attestationCertificate: Buffer;
  deviceCertificate: Buffer;
  rootCertificate: Buffer;
  createdAt: Date;
}

function readme(stem: string, input: AttestationBundleInput): string {
  return `OpenTSB key attestation
=======================

Key "${input.label}" of partition "${input.partitionName}", attested at ${input.createdAt.toISOString()}.

${stem}.xml   the key's attribute statement, exactly as signed
${stem}.sig   ECDSA P-256 / SHA-256 signature (DER) of ${stem}.xml by the partition's attestation key
${stem}.pem   the attestation public key
${CHAIN_FILE}   the attestation key's certificate, then the device (intermediate CA) certificate
${ROOT_FILE}   the OpenTSB root certificate of this service. Trust it only after comparing it with the one
             you obtained out of band (GET /v1/attestation/certificates, or from the operator).

Verify:

  # 1. the statement is signed by the attestation key ("Verified OK")
  openssl dgst -sha256 -verify ${stem}.pem -signature ${stem}.sig ${stem}.xml

  # 2. the attestation key's certificate chains to the root ("PrimusHSM_Attestation.crt: OK")
  openssl verify -CAfile ${ROOT_FILE} -untrusted ${CHAIN_FILE} ${CHAIN_FILE}

  # 3. the certified key is the key that signed (no output: identical)
  openssl x509 -in ${CHAIN_FILE} -pubkey -noout | diff - ${stem}.pem

  # 4. the key never left the HSM: extractable false, never_extractable true
  grep -E '<(extractable|never_extractable)>' ${stem}.xml

  # 5. the key in the statement is the key of your CSR or certificate: compare <public_key> (base64 DER
  #    SubjectPublicKeyInfo) with, e.g.,  openssl req -in key.csr -pubkey -noout
`;
}

/** The attestation ZIP of `POST /v1/key/keyAttestation`: only public things. */
export function attestationBundle(input: AttestationBundleInput): Buffer {
  const stem = fileStem(input.label);
  const text = (value: string) => Buffer.from(value, 'utf8');
  return createZip(
    [
      { name: `${stem}.xml`, data: text(input.xml) },
      { name: `${stem}.sig`, data: input.signature },
      { name: `${stem}.pem`, data: text(publicKeyPem(input.attestationPublicKey)) },
      {
        name: CHAIN_FILE,
        data: text(certificatePem(input.attestationCertificate) + certificatePem(input.deviceCertificate)),
      },
      { name: ROOT_FILE, data: text(certificatePem(input.rootCertificate)) },
      { name: 'README.txt', data: text(readme(stem, input)) },
    ],
    input.createdAt,
  );
}
