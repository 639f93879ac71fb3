import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { EmptyResponse } from '../../http/common.schema.js';
import { COMMON_ERRORS, callerPartition, onlyRoles } from '../../http/route-access.js';
import {
  ChangePasswordBodySchema,
  CreateKeyBodySchema,
  ExportedKeySchema,
  ImportedKeyBodySchema,
  type ImportKeyBody,
  ImportKeyBodySchema,
  KeyNameParamsSchema,
  LabelPasswordBodySchema,
  SignedKeyAttributesSchema,
} from './keys.schema.js';

const keyManagement = onlyRoles('keyManagement');
const tags = ['Keys'];

/** TSB v1 key store management (reference §2.2); every route needs the keyManagement role. */
export const keysRoutes: FastifyPluginAsyncTypebox<{ hsm: SoftHsm }> = async (app, { hsm }) => {
  const partitionOf = callerPartition(hsm);

  app.post(
    '/v1/key',
    {
      config: keyManagement,
      schema: {
        tags,
        operationId: 'createKey',
        summary: 'Create a key',
        body: CreateKeyBodySchema,
        response: { 201: SignedKeyAttributesSchema, ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      const partition = await partitionOf(request);
      reply.code(201);
      return hsm.keys.create(partition, request.body);
    },
  );

  app.get(
    '/v1/key',
    {
      config: keyManagement,
      schema: {
        tags,
        operationId: 'getKeys',
        summary: 'List the labels of all keys of the partition',
        response: { 200: Type.Array(Type.String()), ...COMMON_ERRORS },
      },
    },
    async (request) => hsm.keys.list(await partitionOf(request)),
  );

  app.post(
    '/v1/key/attributes',
    {
      config: keyManagement,
      schema: {
        tags,
        operationId: 'getKeyAttributesWithKeyPassword',
        summary: 'Read the signed attributes of a key',
        body: LabelPasswordBodySchema,
        response: { 200: SignedKeyAttributesSchema, ...COMMON_ERRORS },
      },
    },
    async (request) =>
      hsm.keys.attributes(await partitionOf(request), request.body.label, request.body.password),
  );

  app.get(
    '/v1/key/:keyName/attributes',
    {
      config: keyManagement,
      schema: {
        tags,
        operationId: 'getKeyAttributes',
        summary:
          'Read the signed attributes of a key without password (deprecated: use POST /v1/key/attributes)',
        deprecated: true,
        params: KeyNameParamsSchema,
        response: { 200: SignedKeyAttributesSchema, ...COMMON_ERRORS },
      },
    },
    async (request) => hsm.keys.attributes(await partitionOf(request), request.params.keyName),
  );

  app.delete(
    '/v1/key/:keyName',
    {
      config: keyManagement,
      schema: {
        tags,
        operationId: 'deleteKey',
        summary: 'Delete a key (only when destroyable)',
        params: KeyNameParamsSchema,
        response: { 200: EmptyResponse('deleted'), ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      await hsm.keys.destroy(await partitionOf(request), request.params.keyName);
      return reply.code(200).send();
    },
  );

  app.post(
    '/v1/key/deleteKey',
    {
      config: keyManagement,
      schema: {
        tags,
        operationId: 'deleteKeyWithPassword',
        summary: 'Delete a key that has a password',
        body: LabelPasswordBodySchema,
        response: { 200: EmptyResponse('deleted'), ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      await hsm.keys.destroy(await partitionOf(request), request.body.label, request.body.password);
      return reply.code(200).send();
    },
  );

  app.post(
    '/v1/key/import/plain',
    {
      config: keyManagement,
      schema: {
        tags,
        operationId: 'importPlainKey',
        summary:
          'Import a key in plain: a private key with its public key or certificate, a secret key, or a public key or certificate alone (verify-only)',
        body: ImportKeyBodySchema,
        response: { 201: SignedKeyAttributesSchema, ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      const partition = await partitionOf(request);
      reply.code(201);
      return hsm.keys.importPlain(partition, request.body);
    },
  );

  app.post(
    '/v1/importedKey',
    {
      config: keyManagement,
      schema: {
        tags,
        operationId: 'importKey',
        summary:
          'Import the master key of a BIP32 / SLIP-10 seed; a body without seed is a plain import as in /v1/key/import/plain',
        body: ImportedKeyBodySchema,
        response: { 201: SignedKeyAttributesSchema, ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      const partition = await partitionOf(request);
      const body = request.body;
      // a body with a seed (string) passed the seed schema; one without is the plain import's
      const imported =
        'seed' in body && typeof body.seed === 'string'
          ? await hsm.keys.importSeed(partition, body)
          : await hsm.keys.importPlain(partition, body as ImportKeyBody);
      reply.code(201);
      return imported;
    },
  );

  app.post(
    '/v1/key/export/plain',
    {
      config: keyManagement,
      schema: {
        tags,
        operationId: 'exportPlainKey',
        summary: 'Export a key in plain (extractable, not sensitive, no SKA policy, partition allows export)',
        body: LabelPasswordBodySchema,
        response: { 200: ExportedKeySchema, ...COMMON_ERRORS },
      },
    },
    async (request) =>
      hsm.keys.exportPlain(await partitionOf(request), request.body.label, request.body.password),
  );

  app.post(
    '/v1/key/changePassword',
    {
      config: keyManagement,
      schema: {
        tags,
        operationId: 'changePassword',
        summary: 'Set, change or remove a key password',
        body: ChangePasswordBodySchema,
        response: { 200: EmptyResponse('changed'), ...COMMON_ERRORS },
      },
    },
    async (request, reply) => {
      const { label, password, newPassword } = request.body;
      await hsm.keys.changePassword(await partitionOf(request), label, password, newPassword);
      return reply.code(200).send();
    },
  );
};
