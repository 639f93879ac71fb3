import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { EmptyResponse } from '../../http/common.schema.js';
import { COMMON_ERRORS, onlyRoles } from '../../http/route-access.js';
import { fileStem } from '../attestation/attestation-bundle.js';
import {
  CertificateKeyParamsSchema,
  CertificateResponseSchema,
  CsrFileSchema,
  CsrResponseSchema,
  HeldCertificateResponseSchema,
  ImportCertificateBodySchema,
  SynchronousCsrBodySchema,
  SynchronousSelfSignBodySchema,
  SynchronousSignCertificateBodySchema,
} from './certificates.schema.js';
import { CertificatesService } from './certificates.service.js';

const keyOperation = onlyRoles('keyOperation');
const tags = ['Certificate'];
const CSR_FILE_TYPE = 'application/x-pem-file';

/**
 * TSB v1 certificates of keys (reference §2.6), synchronous forms; the keyOperation role (§5.3).
 * The SKA forms (`/v1/certificate/request|selfsign|sign`) are workflow requests (requests.routes.ts).
 */
export const certificatesRoutes: FastifyPluginAsyncTypebox<{ hsm: SoftHsm }> = async (app, { hsm }) => {
  const service = new CertificatesService(hsm);
  const partitionId = (request: { caller: { partitionId: string } | null }) => request.caller!.partitionId;

  app.post(
    '/v1/certificate/synchronous/request',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'signCsr',
        summary: 'Create a PKCS#10 CSR for a key (the key then holds a self-signed certificate)',
        body: SynchronousCsrBodySchema,
        response: { 200: CsrResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => service.request(partitionId(request), request.body),
  );

  app.post(
    '/v1/certificate/synchronous/request/download',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'signCsrDownload',
        summary: 'Create a CSR for a key and download it as a PEM file (<label>.csr)',
        body: SynchronousCsrBodySchema,
        response: {
          200: { description: 'the CSR, PEM', content: { [CSR_FILE_TYPE]: { schema: CsrFileSchema } } },
          ...COMMON_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const { label, certificateSigningRequest } = await service.request(partitionId(request), request.body);
      return reply
        .header('content-type', CSR_FILE_TYPE)
        .header('content-disposition', `attachment; filename="${fileStem(label)}.csr"`)
        .send(certificateSigningRequest);
    },
  );

  for (const [path, operationId] of [
    ['/v1/certificate/synchronous/selfsign', 'selfSignCertificate'],
    ['/v1/certificate/synchronous/create/selfSigned', 'createSelfSignedCertificate'],
  ] as const) {
    app.post(
      path,
      {
        config: keyOperation,
        schema: {
          tags,
          operationId,
          summary:
            path === '/v1/certificate/synchronous/selfsign'
              ? 'Self-sign a certificate for a key and store it on the key'
              : 'Older name of /v1/certificate/synchronous/selfsign',
          body: SynchronousSelfSignBodySchema,
          response: { 200: CertificateResponseSchema, ...COMMON_ERRORS },
        },
      },
      async (request) => service.selfSign(partitionId(request), request.body),
    );
  }

  app.post(
    '/v1/certificate/synchronous/sign',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'signCertificate',
        summary: 'Issue a certificate for a CSR with a CA key (issuer: the certificate the CA key holds)',
        body: SynchronousSignCertificateBodySchema,
        response: { 200: CertificateResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => service.sign(partitionId(request), request.body),
  );

  app.post(
    '/v1/certificate/import/plain',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'importPlainCertificate',
        summary: 'Store a certificate on an existing key whose public key it certifies (replaces one held)',
        body: ImportCertificateBodySchema,
        response: { 200: CertificateResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => service.importPlain(partitionId(request), request.body),
  );

  app.get(
    '/v1/certificate/:keyName',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'getCertificate',
        summary: 'The certificate a key holds (PEM, and base64 DER in rawCertificate)',
        params: CertificateKeyParamsSchema,
        response: { 200: HeldCertificateResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => service.get(partitionId(request), request.params.keyName),
  );

  app.delete(
    '/v1/certificate/:keyName',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'deleteCertificate',
        summary: 'Remove the certificate a key holds (the key stays)',
        params: CertificateKeyParamsSchema,
        response: { 200: EmptyResponse('deleted'), ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      await service.remove(partitionId(request), request.params.keyName);
      return reply.code(200).send();
    },
  );
};
