import { Type } from 'typebox';

/** The TSB error body (reference §1.4), used as the response schema of every error status. */
export const ErrorBodySchema = Type.Object(
  {
    errorCode: Type.Integer({ description: 'TSB business error code, e.g. 650 for a missing key' }),
    reason: Type.String({ description: 'TSB reason key, e.g. res.error.key.not.existent' }),
    message: Type.String({ description: 'human-readable explanation' }),
  },
  { $id: 'TsbError', title: 'TsbError' },
);

export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, Type.Ref('TsbError')]));

/** Passwords are Java `char[]` in the TSB: a JSON string or an array of one-character strings. */
export const PasswordSchema = Type.Union(
  [
    Type.String({ maxLength: 256 }),
    Type.Array(Type.String({ minLength: 1, maxLength: 2 }), { maxItems: 256 }),
    Type.Null(),
  ],
  {
    title: 'KeyPassword',
    description: 'key password: a string or an array of single characters (TSB char[])',
  },
);

export const LabelSchema = Type.String({
  minLength: 1,
  maxLength: 150,
  description: 'key label (unique in the partition)',
});

export const Base64Schema = (description: string, maxLength = 1_048_576) =>
  Type.String({ maxLength, description: `${description} (standard base64)` });

/** A TSB "status only" answer: the status code alone, with an empty body. */
export const EmptyResponse = (description: string) =>
  Type.Unknown({ description: `${description} (empty body)` });
