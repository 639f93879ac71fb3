import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { presentedApprovals } from '../../hsm/approval-gate.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { EmptyResponse } from '../../http/common.schema.js';
import { COMMON_ERRORS, callerPartition, onlyRoles } from '../../http/route-access.js';
import {
  AddressBodySchema,
  AddressResponseSchema,
  DecryptBodySchema,
  DecryptResponseSchema,
  DeriveKeyBodySchema,
  DeriveKeyResponseSchema,
  EncryptBodySchema,
  EncryptResponseSchema,
  HmacBodySchema,
  HmacResponseSchema,
  SignatureResponseSchema,
  SynchronousSignBodySchema,
  UnwrapBodySchema,
  VerifyBodySchema,
  VerifyResponseSchema,
  WrapBodySchema,
  WrapResponseSchema,
} from './operations.schema.js';

const keyOperation = onlyRoles('keyOperation');
const tags = ['Synchronous Key Operations'];

/** TSB v1 synchronous key operations (reference §2.3); the keyOperation role. Routes only translate. */
export const operationsRoutes: FastifyPluginAsyncTypebox<{ hsm: SoftHsm }> = async (app, { hsm }) => {
  const partitionOf = callerPartition(hsm);
  const ops = hsm.operations;

  app.post(
    '/v1/synchronousSign',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'synchronousSign',
        summary: 'Sign a payload now',
        body: SynchronousSignBodySchema,
        response: { 200: SignatureResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const signature = await ops.sign(
        await partitionOf(request),
        request.body.signRequest,
        presentedApprovals(request.body.signedApprovals),
      );
      return { signature: signature.toString('base64') };
    },
  );

  app.post(
    '/v1/verify',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'verifySignature',
        summary: 'Verify a signature (verifySignatureRequest) or an HMAC (verifyHmacRequest)',
        body: VerifyBodySchema,
        response: { 200: VerifyResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => ({ signatureValid: await ops.verify(await partitionOf(request), request.body) }),
  );

  app.post(
    '/v1/synchronousHmac',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'hmac',
        summary: 'Compute an HMAC-SHA-256',
        body: HmacBodySchema,
        response: { 200: HmacResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const mac = await ops.hmac(await partitionOf(request), request.body.hmacRequest);
      return { keyedHash: mac.toString('base64') };
    },
  );

  app.post(
    '/v1/encrypt',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'encrypt',
        summary: 'Encrypt with a secret key or an RSA public key',
        body: EncryptBodySchema,
        response: { 200: EncryptResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => ops.encrypt(await partitionOf(request), request.body.encryptRequest),
  );

  app.post(
    '/v1/synchronousDecrypt',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'synchronousDecrypt',
        summary: 'Decrypt now',
        body: DecryptBodySchema,
        response: { 200: DecryptResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const payload = await ops.decrypt(
        await partitionOf(request),
        request.body.decryptRequest,
        presentedApprovals(request.body.signedApprovals),
      );
      return { payload: payload.toString('base64') };
    },
  );

  app.post(
    '/v1/wrap',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'wrap',
        summary: 'Wrap (export encrypted) a key under another key',
        body: WrapBodySchema,
        response: { 200: WrapResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => {
      const wrapped = await ops.wrap(await partitionOf(request), request.body.wrapKeyRequest);
      return { wrappedKey: wrapped.toString('base64') };
    },
  );

  app.post(
    '/v1/synchronousUnwrap',
    {
      config: keyOperation,
      schema: {
        tags,
        operationId: 'synchronousUnwrap',
        summary: 'Unwrap a key and store it as a new key with the given attributes and policy',
        body: UnwrapBodySchema,
        response: { 201: EmptyResponse('unwrapped'), ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      await ops.unwrap(
        await partitionOf(request),
        request.body.unwrapKeyRequest,
        presentedApprovals(request.body.signedApprovals),
      );
      return reply.code(201).send();
    },
  );

  app.post(
    '/v1/key/address',
    {
      config: { auth: { roles: ['keyManagement'] as const } },
      schema: {
        tags: ['Keys'],
        operationId: 'getKeyAddressWithKeyPassword',
        summary: 'The crypto address of an SKA key created with an addressFormat',
        body: AddressBodySchema,
        response: { 200: AddressResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => ({
      address: await ops.address(await partitionOf(request), request.body.label, request.body.password),
    }),
  );

  app.post(
    '/v1/derivedKey',
    {
      config: { auth: { roles: ['keyManagement'] as const } },
      schema: {
        tags: ['Keys'],
        operationId: 'deriveKey',
        summary: 'Derive a BIP32 / SLIP-10 child of a key and store it as a new key',
        body: DeriveKeyBodySchema,
        response: { 201: DeriveKeyResponseSchema, ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      const partition = await partitionOf(request);
      reply.code(201);
      return ops.derive(partition, request.body);
    },
  );
};
