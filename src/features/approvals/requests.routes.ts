import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TSchema } from 'typebox';
import { type Caller, encodePrincipals, principalsOf } from '../../auth/caller.js';
import type { Role } from '../../auth/roles.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { EmptyResponse, errorResponses } from '../../http/common.schema.js';
import { knownFieldsOf } from '../../http/known-fields.js';
import type { SkaOperation } from '../../ska/challenge.js';
import {
  AsyncCsrBodySchema,
  AsyncSelfSignBodySchema,
  AsyncSignCertificateBodySchema,
} from '../certificates/certificates.schema.js';
import {
  AsyncDecryptBodySchema,
  AsyncSignBodySchema,
  AsyncUnwrapBodySchema,
  BlockBodySchema,
  BlockRequestIdSchema,
  DecryptRequestIdSchema,
  FilteredRequestsBodySchema,
  FilteredRequestsResponseSchema,
  ModifyBodySchema,
  ModifyRequestIdSchema,
  RequestIdParamsSchema,
  RequestStatusSchema,
  SignRequestIdSchema,
  UnblockBodySchema,
  UnblockRequestIdSchema,
  UnwrapRequestIdSchema,
} from './requests.schema.js';
import type { Workflow } from './workflow.js';

type RouteAccess = { auth: { roles: readonly Role[] } };
const keyOperation: RouteAccess = { auth: { roles: ['keyOperation'] } };
const keyManagement: RouteAccess = { auth: { roles: ['keyManagement'] } };
const tags = ['Requests'];
const commonErrors = errorResponses(400, 401, 403, 404, 409, 413, 500, 503);

/** Who created a request (the principals of its credentials): they may not decide on it (separation of duties). */
export const creatorOf = (caller: Caller): string => encodePrincipals(principalsOf(caller));

/**
 * TSB v1 asynchronous (workflow) requests (reference §2.4): each stores a request whose SKA rule decides
 * when it runs, and answers 201 with its id. Routes only translate.
 */
export const requestsRoutes: FastifyPluginAsyncTypebox<{ hsm: SoftHsm; workflow: Workflow }> = async (
  app,
  { hsm, workflow },
) => {
  const create = async (
    request: { caller: Caller | null },
    operation: SkaOperation,
    inner: object,
  ): Promise<string> => {
    const caller = request.caller!;
    return workflow.requests.create(
      await hsm.partition(caller.partitionId),
      creatorOf(caller),
      operation,
      inner as Record<string, unknown>,
    );
  };

  const asyncRoute = <Body extends object, Answer extends string>(options: {
    path: string;
    operationId: string;
    summary: string;
    roles: RouteAccess;
    body: TSchema;
    response: TSchema;
    operation: SkaOperation;
    inner: (body: Body) => object;
    answer: Answer;
  }) => {
    const knownFields = knownFieldsOf(options.body);
    return app.post(
      options.path,
      {
        config: options.roles,
        schema: {
          tags,
          operationId: options.operationId,
          summary: options.summary,
          body: options.body,
          response: { 201: options.response, ...commonErrors },
        },
      },
      async (request, reply) => {
        // unknown fields are accepted (as by the TSB) but dropped: only what the schema names is stored and
        // shown to approvers
        const known = knownFields(request.body) as Body;
        const id = await create(request, options.operation, options.inner(known));
        return reply.code(201).send({ [options.answer]: id });
      },
    );
  };

  asyncRoute<{ signRequest: object }, 'signRequestId'>({
    path: '/v1/sign',
    operationId: 'sign',
    summary: 'Request a signature under the key’s SKA ruleUse',
    roles: keyOperation,
    body: AsyncSignBodySchema,
    response: SignRequestIdSchema,
    operation: 'SIGN',
    inner: (body) => body.signRequest,
    answer: 'signRequestId',
  });
  asyncRoute<{ decryptRequest: object }, 'decryptRequestId'>({
    path: '/v1/decrypt',
    operationId: 'decrypt',
    summary: 'Request a decryption under the key’s SKA ruleUse',
    roles: keyOperation,
    body: AsyncDecryptBodySchema,
    response: DecryptRequestIdSchema,
    operation: 'DECRYPT',
    inner: (body) => body.decryptRequest,
    answer: 'decryptRequestId',
  });
  asyncRoute<{ unwrapKeyRequest: object }, 'unwrapRequestId'>({
    path: '/v1/unwrap',
    operationId: 'unwrap',
    summary: 'Request an unwrap under the key’s SKA ruleUse',
    roles: keyOperation,
    body: AsyncUnwrapBodySchema,
    response: UnwrapRequestIdSchema,
    operation: 'UNWRAP',
    inner: (body) => body.unwrapKeyRequest,
    answer: 'unwrapRequestId',
  });
  asyncRoute<{ blockRequest: object }, 'blockKeyRequestId'>({
    path: '/v1/block',
    operationId: 'block',
    summary: 'Request blocking a key under its SKA ruleBlock',
    roles: keyOperation,
    body: BlockBodySchema,
    response: BlockRequestIdSchema,
    operation: 'BLOCK',
    inner: (body) => body.blockRequest,
    answer: 'blockKeyRequestId',
  });
  asyncRoute<{ unblockRequest: object }, 'unblockKeyRequestId'>({
    path: '/v1/unblock',
    operationId: 'unblock',
    summary: 'Request unblocking a key under its SKA ruleUnblock',
    roles: keyOperation,
    body: UnblockBodySchema,
    response: UnblockRequestIdSchema,
    operation: 'UNBLOCK',
    inner: (body) => body.unblockRequest,
    answer: 'unblockKeyRequestId',
  });
  asyncRoute<{ modifyRequest: object }, 'modifyKeyRequestId'>({
    path: '/v1/modify',
    operationId: 'modify',
    summary: 'Request a change of a key’s SKA policy under its ruleModify',
    roles: keyManagement,
    body: ModifyBodySchema,
    response: ModifyRequestIdSchema,
    operation: 'MODIFY',
    inner: (body) => body.modifyRequest,
    answer: 'modifyKeyRequestId',
  });

  asyncRoute<{ csrSignRequest: object }, 'signRequestId'>({
    path: '/v1/certificate/request',
    operationId: 'signCsrWithSkaKey',
    summary: 'Request a CSR (and the key’s self-signed certificate) under the key’s SKA ruleUse',
    roles: keyOperation,
    body: AsyncCsrBodySchema,
    response: SignRequestIdSchema,
    operation: 'CERTIFICATE_REQUEST',
    inner: (body) => body.csrSignRequest,
    answer: 'signRequestId',
  });
  asyncRoute<{ selfSignCertificateRequest: object }, 'signRequestId'>({
    path: '/v1/certificate/selfsign',
    operationId: 'selfSignCertificateWithSkaKey',
    summary: 'Request a self-signed certificate under the key’s SKA ruleUse',
    roles: keyOperation,
    body: AsyncSelfSignBodySchema,
    response: SignRequestIdSchema,
    operation: 'SELF_SIGN_CERTIFICATE',
    inner: (body) => body.selfSignCertificateRequest,
    answer: 'signRequestId',
  });
  asyncRoute<{ signCertificateRequest: object }, 'signRequestId'>({
    path: '/v1/certificate/sign',
    operationId: 'signCertificateWithSkaKey',
    summary: 'Request a certificate for a CSR, issued by a CA key under its SKA ruleUse',
    roles: keyOperation,
    body: AsyncSignCertificateBodySchema,
    response: SignRequestIdSchema,
    operation: 'SIGN_CERTIFICATE',
    inner: (body) => body.signCertificateRequest,
    answer: 'signRequestId',
  });

  app.get(
    '/v1/request/:id',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'getRequestStatus',
        summary: 'Status and result of a request',
        params: RequestIdParamsSchema,
        response: { 200: RequestStatusSchema, ...commonErrors },
      },
    },
    async (request) =>
      workflow.requests.status(await hsm.partition(request.caller!.partitionId), request.params.id),
  );

  app.delete(
    '/v1/request/:id',
    {
      config: { auth: { roles: ['keyOperation', 'keyManagement'] } },
      schema: {
        tags,
        operationId: 'cancelRequest',
        summary: 'Cancel an open request (status CANCELLED): its creator, or a keyManagement caller',
        params: RequestIdParamsSchema,
        response: { 200: EmptyResponse('cancelled'), ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = request.caller!;
      await workflow.requests.cancel(await hsm.partition(caller.partitionId), request.params.id, {
        principals: principalsOf(caller),
        keyManagement: caller.roles.has('keyManagement'),
      });
      return reply.code(200).send();
    },
  );

  app.post(
    '/v1/filteredRequests',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'filteredRequests',
        summary: 'The partition’s requests, filtered by status, one page at a time',
        body: FilteredRequestsBodySchema,
        response: { 200: FilteredRequestsResponseSchema, ...commonErrors },
      },
    },
    async (request) => {
      const { status, paging } = request.body;
      const statuses =
        status === undefined || status === null ? null : typeof status === 'string' ? [status] : status;
      return workflow.requests.list(await hsm.partition(request.caller!.partitionId), statuses, {
        pageNumber: paging?.pageNumber ?? 0,
        pageSize: paging?.pageSize ?? 25,
        ascending: paging?.sortOrder !== 'CREATION_DATE_DESC',
      });
    },
  );
};
