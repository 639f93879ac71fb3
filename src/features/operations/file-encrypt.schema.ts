import { Type } from 'typebox';
import { LabelSchema, PasswordSchema } from '../../http/common.schema.js';

/** The multipart part that holds the JSON request, named after the TSB's DTO (FileEncryption.md). */
export const REQUEST_PART = 'SignedFileEncryptRequestDto';

export const FileEncryptRequestSchema = Type.Object(
  {
    fileEncryptRequest: Type.Object({
      encryptKeyName: Type.String({
        ...LabelSchema,
        maxLength: 1024,
        description: 'the EC key (derive attribute)',
      }),
      keyPassword: Type.Optional(PasswordSchema),
    }),
  },
  { title: 'SignedFileEncryptRequest' },
);

/** The multipart body as OpenAPI shows it (the route reads the parts itself). */
export const FileEncryptBodySchema = Type.Object({
  [REQUEST_PART]: Type.String({
    description: 'JSON: {"fileEncryptRequest": {"encryptKeyName": "<EC key>"}}',
  }),
  file: Type.String({ format: 'binary', description: 'the file to encrypt' }),
});
