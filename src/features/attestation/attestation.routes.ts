import { createHash } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ROLES } from '../../auth/roles.js';
import { TIMESTAMP_HASHES, timestampHash } from '../../crypto/x509/rfc3161.js';
import { certificatePem } from '../../crypto/x509/x509.js';
import { TsbError } from '../../errors.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { errorResponses } from '../../http/common.schema.js';
import { callerPartition } from '../../http/route-access.js';
import { decodeBase64 } from '../../lib/encoding.js';
import { LabelPasswordBodySchema } from '../keys/keys.schema.js';
import {
  CertificateChainSchema,
  CreateRfcTimestampBodySchema,
  KEY_ATTESTATION_ZIP,
  KeyAttestationZipSchema,
  RfcTimestampSchema,
} from './attestation.schema.js';
import { attestationBundle, fileStem } from './attestation-bundle.js';

const commonErrors = errorResponses(400, 401, 403, 404, 413, 500, 503);
const NONCE = /^[0-9]{1,78}$/;

/** Key attestation (§6.2): the attestation ZIP, the published certificate chain, RFC 3161 time stamps (§6.3). */
export const attestationRoutes: FastifyPluginAsyncTypebox<{ hsm: SoftHsm }> = async (app, { hsm }) => {
  const partitionOf = callerPartition(hsm);

  app.post(
    '/v1/key/keyAttestation',
    {
      config: { auth: { roles: ['keyManagement'] as const } },
      schema: {
        tags: ['Keys'],
        operationId: 'getKeyAttestation',
        summary:
          'Key attestation: a ZIP with the signed key statement, its signature and the certificate chain',
        body: LabelPasswordBodySchema,
        response: {
          200: {
            description: KEY_ATTESTATION_ZIP,
            content: { 'application/zip': { schema: KeyAttestationZipSchema } },
          },
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const partition = await partitionOf(request);
      const statement = await hsm.keys.attributes(partition, request.body.label, request.body.password);
      const certificates = await hsm.certificates.forPartition(partition);
      const zip = attestationBundle({
        label: request.body.label,
        partitionName: partition.name,
        xml: statement.xml,
        signature: Buffer.from(statement.xmlSignature, 'base64'),
        attestationPublicKey: Buffer.from(certificates.partition.attestationPublicKey),
        attestationCertificate: certificates.attestation,
        deviceCertificate: certificates.device,
        rootCertificate: certificates.root,
        createdAt: hsm.clock.now(),
      });
      return reply
        .header('content-type', 'application/zip')
        .header(
          'content-disposition',
          `attachment; filename="${fileStem(request.body.label)}-attestation.zip"`,
        )
        .send(zip);
    },
  );

  app.get(
    '/v1/attestation/certificates',
    {
      config: { auth: { roles: ROLES } },
      schema: {
        tags: ['Keys'],
        operationId: 'getAttestationCertificates',
        summary: 'The certificate chain of the partition attestation and timestamp keys (PEM)',
        response: { 200: CertificateChainSchema, ...errorResponses(401, 403, 500, 503) },
      },
    },
    async (request) => {
      const certificates = await hsm.certificates.forPartition(await partitionOf(request));
      return {
        root: certificatePem(certificates.root),
        device: certificatePem(certificates.device),
        attestation: certificatePem(certificates.attestation),
        timestamp: certificatePem(certificates.timestamp),
      };
    },
  );

  app.post(
    '/v1/createRfcTimestamp',
    {
      config: { auth: { roles: ['keyOperation'] as const } },
      schema: {
        tags: ['Synchronous Key Operations'],
        operationId: 'createRfcTimestamp',
        summary: 'An RFC 3161 time-stamp token signed by the partition timestamp key',
        body: CreateRfcTimestampBodySchema,
        response: { 200: RfcTimestampSchema, ...commonErrors },
      },
    },
    async (request) => {
      const { messageImprint, data, nonce, certReq } = request.body;
      const hash = timestampHash(request.body.hashAlgorithm);
      if ((messageImprint == null) === (data == null)) {
        throw new TsbError('INPUT_VALIDATION_FAILED', 'give exactly one of messageImprint and data');
      }
      if (nonce != null && !NONCE.test(nonce)) {
        throw new TsbError(
          'INPUT_VALIDATION_FAILED',
          'nonce must be a non-negative decimal integer (up to 78 digits)',
        );
      }
      const digest =
        messageImprint != null
          ? decodeBase64(messageImprint, 'messageImprint', 'INVALID_PAYLOAD')
          : createHash(TIMESTAMP_HASHES[hash].node)
              .update(decodeBase64(data!, 'data', 'INVALID_PAYLOAD'))
              .digest();
      const issued = await hsm.rfcTimestamp(await partitionOf(request), {
        hash,
        messageImprint: digest,
        nonce: nonce == null ? null : BigInt(nonce),
        certReq: certReq ?? false,
      });
      return {
        timeStampToken: issued.token.toString('base64'),
        timeStampResponse: issued.response.toString('base64'),
      };
    },
  );
};
