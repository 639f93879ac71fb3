import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import { TsbError } from '../../errors.js';
import type { SoftHsm } from '../../hsm/soft-hsm.js';
import { errorResponses } from '../../http/common.schema.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../http/input-guard.js';
import { acceptMultipart, type MultipartBody } from '../../http/multipart.js';
import { FileEncryptBodySchema, FileEncryptRequestSchema, REQUEST_PART } from './file-encrypt.schema.js';

type FileEncryptRequest = Static<typeof FileEncryptRequestSchema>;

/** The JSON request part, checked as strictly as a JSON body. */
function requestOf(body: MultipartBody): FileEncryptRequest {
  const part = body.get(REQUEST_PART);
  if (!part) throw new TsbError('INPUT_VALIDATION_FAILED', `the multipart part "${REQUEST_PART}" is missing`);
  const text = part.data.toString('utf8');
  let parsed: unknown;
  try {
    if (nestsDeeperThan(text, MAX_JSON_DEPTH)) throw new Error('too deep');
    parsed = JSON.parse(text);
  } catch {
    throw new TsbError('INPUT_VALIDATION_FAILED', `the part "${REQUEST_PART}" is not JSON`);
  }
  if (!Value.Check(FileEncryptRequestSchema, parsed)) {
    const first = Value.Errors(FileEncryptRequestSchema, parsed)[0];
    throw new TsbError(
      'INPUT_VALIDATION_FAILED',
      `the part "${REQUEST_PART}" is not {"fileEncryptRequest": {"encryptKeyName": …}}${first ? `: ${first.instancePath} ${first.message}` : ''}`,
    );
  }
  return parsed;
}

/** `POST /v1/fileEncrypt` (reference §2.3): ECIES encryption of an uploaded file to an EC key; keyOperation role. */
export const fileEncryptRoutes: FastifyPluginAsyncTypebox<{ hsm: SoftHsm }> = async (app, { hsm }) => {
  acceptMultipart(app);

  app.post(
    '/v1/fileEncrypt',
    {
      config: { auth: { roles: ['keyOperation'] as const } },
      // the body schema documents the parts; requestOf and the handler check them (a Map is no JSON object)
      validatorCompiler: () => () => true,
      schema: {
        tags: ['Synchronous Key Operations'],
        operationId: 'fileEncryption',
        summary:
          'Encrypt a file (multipart part "file") with ECIES to an EC key named in the part "SignedFileEncryptRequestDto"',
        body: { content: { 'multipart/form-data': { schema: FileEncryptBodySchema } } },
        response: {
          200: {
            description: 'the ECIES cryptogram R ‖ C ‖ T (docs/tsb-deviations.md)',
            content: {
              'application/octet-stream': {
                schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }),
              },
            },
          },
          ...errorResponses(400, 401, 403, 404, 413, 415, 500, 503),
        },
      },
    },
    async (request, reply) => {
      if (!(request.body instanceof Map)) {
        throw new TsbError('INPUT_VALIDATION_FAILED', 'the body must be multipart/form-data');
      }
      const body: MultipartBody = request.body;
      const { fileEncryptRequest } = requestOf(body);
      const file = body.get('file');
      if (!file) throw new TsbError('INPUT_VALIDATION_FAILED', 'the multipart part "file" is missing');
      const partition = await hsm.partition(request.caller!.partitionId);
      const cryptogram = await hsm.operations.fileEncrypt(partition, fileEncryptRequest, file.data);
      return reply
        .type('application/octet-stream')
        .header('content-disposition', 'attachment; filename="encrypted.primus"')
        .send(cryptogram);
    },
  );
};
