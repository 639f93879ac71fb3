/** TypeBox building blocks shared by the request schemas of every layer. */
import { type TSchema, type TSchemaOptions, Type } from 'typebox';

/**
 * An optional request field that may also be sent as `null`, which means the same as leaving it out: Go
 * clients send nil slices and pointers as `null` (go-kms-wrapping's `"tokens": null`), Java clients their
 * unset fields, and the TSB (Jackson) reads both as absent. Every optional request field accepts null
 * (test/unit/optional-fields-accept-null.test.ts checks the OpenAPI document).
 */
export const OptionalOrNull = <T extends TSchema>(schema: T, options: TSchemaOptions = {}) =>
  Type.Optional(Type.Union([schema, Type.Null()], options));
