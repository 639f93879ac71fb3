import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { Clock } from '../clock.js';
import { deviceCaKeyBinding, rootCaKeyBinding, seal, UnsealError, unseal } from '../crypto/seal.js';
import {
  type CertificateFacts,
  type CertificateProfile,
  certificateFacts,
  encodeName,
  issueCertificate,
  keyIdentifier,
  type NameAttribute,
  OID,
} from '../crypto/x509/x509.js';
import { TsbError } from '../errors.js';
import type { CertificateAuthority, Partition, PrismaClient } from '../generated/prisma/client.js';
import { toBytes } from '../lib/encoding.js';
import { ATTESTATION_KEY_NAME } from './attestation.js';
import type { PartitionStore } from './partitions/partition-store.js';
import { TIMESTAMP_KEY_NAME } from './partitions/partition-store.js';

const generateKeyPairAsync = promisify(generateKeyPair);

/** The one certificate authority row of a database. */
export const CERTIFICATE_AUTHORITY_NAME = 'opentsb';

const YEAR_MS = 365.25 * 24 * 3600 * 1000;
/** notBefore lies a little in the past, so verifiers with a slow clock accept a fresh certificate */
const BACKDATE_MS = 5 * 60_000;

const ROOT_SUBJECT: NameAttribute[] = [
  { type: OID.organization, value: 'OpenTSB' },
  { type: OID.commonName, value: 'OpenTSB Root CA' },
];
const DEVICE_SUBJECT: NameAttribute[] = [
  { type: OID.organization, value: 'OpenTSB' },
  { type: OID.commonName, value: 'OpenTSB Device CA' },
];
const partitionSubject = (partition: Partition, keyName: string): NameAttribute[] => [
  { type: OID.organization, value: 'OpenTSB' },
  { type: OID.organizationalUnit, value: partition.name },
  { type: OID.commonName, value: keyName },
];

export interface ServiceChain {
  /** DER of the self-signed root certificate */
  root: Buffer;
  /** DER of the device (intermediate CA) certificate, issued by the root */
  device: Buffer;
}

export interface PartitionCertificates extends ServiceChain {
  /** the partition row, with both certificates stored */
  partition: Partition;
  /** DER of the attestation key's certificate, issued by the device key */
  attestation: Buffer;
  /** DER of the timestamp key's certificate (extendedKeyUsage timeStamping, critical) */
  timestamp: Buffer;
}

interface OpenedAuthority extends ServiceChain {
  deviceKey: KeyObject;
  deviceFacts: CertificateFacts;
}

function generateP256(): Promise<{ publicKey: Buffer; privateKey: Buffer }> {
  return generateKeyPairAsync('ec', {
    namedCurve: 'prime256v1',
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
}

function openKey(masterKey: Buffer, sealed: Uint8Array, binding: string): KeyObject {
  const der = unseal(masterKey, sealed, binding);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

/**
 * The service's certificate chain (§6.2): a root key and self-signed root certificate, and a device
 * (intermediate CA) key certified by the root, created once per database; and, per partition, the
 * certificates of its attestation and timestamp keys, issued by the device key on first use.
 */
export class CertificateAuthorityStore {
  private opened: Promise<OpenedAuthority> | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly masterKey: Buffer,
    private readonly partitions: PartitionStore,
    private readonly clock: Clock,
    /** refuses a partition whose stored public keys are not those of its sealed keys (PartitionKeyring.open) */
    private readonly checkPublicKeys: (partition: Partition) => void,
  ) {}

  /** The root and device certificates (created on first use). */
  async chain(): Promise<ServiceChain> {
    const { root, device } = await this.authority();
    return { root, device };
  }

  /** The partition's attestation and timestamp certificates, issued (and stored) when missing. */
  async forPartition(partition: Partition): Promise<PartitionCertificates> {
    const authority = await this.authority();
    let current = partition;
    if (!current.attestationCertificate || !current.timestampCertificate) {
      current = await this.partitions.ensureTimestampKey(current);
      // a certificate is issued for the stored public key, which is in clear: only for the partition's own keys
      this.checkPublicKeys(current);
      const missing: { attestationCertificate?: Buffer; timestampCertificate?: Buffer } = {};
      if (!current.attestationCertificate) {
        missing.attestationCertificate = await this.issue(authority, {
          subject: partitionSubject(current, ATTESTATION_KEY_NAME),
          subjectPublicKey: Buffer.from(current.attestationPublicKey),
          keyUsage: ['digitalSignature'],
          ...this.validity(20),
        });
      }
      if (!current.timestampCertificate) {
        missing.timestampCertificate = await this.issue(authority, {
          subject: partitionSubject(current, TIMESTAMP_KEY_NAME),
          subjectPublicKey: Buffer.from(current.timestampPublicKey!),
          keyUsage: ['digitalSignature'],
          extendedKeyUsage: [OID.timeStamping],
          ...this.validity(20),
        });
      }
      current = await this.partitions.storeCertificates(current.id, missing);
    }
    return {
      partition: current,
      root: authority.root,
      device: authority.device,
      attestation: Buffer.from(current.attestationCertificate!),
      timestamp: Buffer.from(current.timestampCertificate!),
    };
  }

  private validity(years: number): { notBefore: Date; notAfter: Date } {
    const now = this.clock.now().getTime();
    return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + years * YEAR_MS) };
  }

  private issue(authority: OpenedAuthority, profile: CertificateProfile): Promise<Buffer> {
    return issueCertificate(profile, {
      name: authority.deviceFacts.subject,
      keyIdentifier: authority.deviceFacts.keyIdentifier,
      privateKey: authority.deviceKey,
    });
  }

  private authority(): Promise<OpenedAuthority> {
    if (!this.opened) {
      this.opened = this.loadOrCreate().catch((error: unknown) => {
        this.opened = null;
        throw error;
      });
    }
    return this.opened;
  }

  private async loadOrCreate(): Promise<OpenedAuthority> {
    const where = { name: CERTIFICATE_AUTHORITY_NAME };
    let row = await this.prisma.certificateAuthority.findUnique({ where });
    if (!row) {
      // INSERT … ON CONFLICT DO NOTHING, then read back: when processes race, every one uses the winner's
      await this.prisma.certificateAuthority.createMany({
        data: [await this.create()],
        skipDuplicates: true,
      });
      row = await this.prisma.certificateAuthority.findUnique({ where });
      if (!row) throw new TsbError('TECHNICAL', 'the certificate authority could not be stored');
    }
    return this.open(row);
  }

  private open(row: CertificateAuthority): OpenedAuthority {
    try {
      const device = Buffer.from(row.deviceCertificate);
      return {
        root: Buffer.from(row.rootCertificate),
        device,
        deviceKey: openKey(this.masterKey, row.deviceKeySealed, deviceCaKeyBinding(row.name)),
        deviceFacts: certificateFacts(device),
      };
    } catch (error) {
      if (error instanceof UnsealError) {
        throw new TsbError(
          'HSM_INTEGRITY',
          'the certificate authority key does not open with this master key',
        );
      }
      throw error;
    }
  }

  private async create(): Promise<CertificateAuthority> {
    const [root, device] = await Promise.all([generateP256(), generateP256()]);
    const rootKey = createPrivateKey({ key: root.privateKey, format: 'der', type: 'pkcs8' });
    const rootName = encodeName(ROOT_SUBJECT);
    const rootKeyId = keyIdentifier(root.publicKey);
    const rootCertificate = await issueCertificate(
      {
        subject: ROOT_SUBJECT,
        subjectPublicKey: root.publicKey,
        ca: {},
        keyUsage: ['keyCertSign', 'cRLSign'],
        ...this.validity(30),
      },
      { name: rootName, keyIdentifier: rootKeyId, privateKey: rootKey },
    );
    const deviceCertificate = await issueCertificate(
      {
        subject: DEVICE_SUBJECT,
        subjectPublicKey: device.publicKey,
        ca: { pathLength: 0 },
        keyUsage: ['keyCertSign', 'cRLSign'],
        ...this.validity(25),
      },
      { name: rootName, keyIdentifier: rootKeyId, privateKey: rootKey },
    );
    try {
      return {
        name: CERTIFICATE_AUTHORITY_NAME,
        rootKeySealed: toBytes(
          seal(this.masterKey, root.privateKey, rootCaKeyBinding(CERTIFICATE_AUTHORITY_NAME)),
        ),
        rootCertificate: toBytes(rootCertificate),
        deviceKeySealed: toBytes(
          seal(this.masterKey, device.privateKey, deviceCaKeyBinding(CERTIFICATE_AUTHORITY_NAME)),
        ),
        deviceCertificate: toBytes(deviceCertificate),
        createdAt: this.clock.now(),
      };
    } finally {
      root.privateKey.fill(0);
      device.privateKey.fill(0);
    }
  }
}
