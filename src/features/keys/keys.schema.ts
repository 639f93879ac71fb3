import { type Static, Type } from 'typebox';
import { Base64Schema, LabelSchema, PasswordSchema } from '../../http/common.schema.js';
import { OptionalOrNull } from '../../lib/schema-fields.js';
import { SkaPolicySchema } from '../../ska/policy.schema.js';

const OptionalBoolean = (description: string) =>
  Type.Optional(Type.Union([Type.Boolean(), Type.Null()], { description }));

export const KeyAttributesInputSchema = Type.Object(
  {
    encrypt: OptionalBoolean('allow encrypt (default: decrypt, for symmetric keys)'),
    decrypt: Type.Boolean({ description: 'allow decrypt' }),
    verify: OptionalBoolean('allow verify (default: sign, for symmetric keys)'),
    sign: Type.Boolean({ description: 'allow sign' }),
    wrap: OptionalBoolean('allow wrap (default: unwrap, for symmetric keys)'),
    unwrap: Type.Boolean({ description: 'allow unwrap' }),
    derive: OptionalBoolean('allow derivation (default false)'),
    bip32: OptionalBoolean('BIP32 derivation; needs derive (default false)'),
    slip10: OptionalBoolean('SLIP-10 derivation; needs derive (default false)'),
    extractable: OptionalBoolean('key may be exported; never with an SKA policy (default false)'),
    modifiable: OptionalBoolean('attributes may be made stricter (default true)'),
    destroyable: OptionalBoolean('key may be deleted (default false)'),
    sensitive: OptionalBoolean('key must not be exported in plain (default true)'),
    copyable: OptionalBoolean('key may be stored externally (default false)'),
  },
  { title: 'KeyAttributesInput' },
);

const ImportAttributesSchema = Type.Object(
  {
    ...KeyAttributesInputSchema.properties,
    decrypt: OptionalOrNull(Type.Boolean({ description: 'allow decrypt' })),
    sign: OptionalOrNull(Type.Boolean({ description: 'allow sign' })),
    unwrap: OptionalOrNull(Type.Boolean({ description: 'allow unwrap' })),
  },
  { description: 'optional for a public key or certificate alone' },
);

const AddressFormatSchema = Type.Object(
  { format: Type.String({ maxLength: 8, description: 'BTC, ETH, XLM, XRP or IOTA (SKA keys only)' }) },
  { description: 'crypto address format' },
);

export const CreateKeyBodySchema = Type.Object(
  {
    label: LabelSchema,
    password: Type.Optional(PasswordSchema),
    id: Type.Optional(
      Type.Union([Type.String({ maxLength: 150 }), Type.Null()], { description: 'optional key id' }),
    ),
    algorithm: Type.String({
      minLength: 1,
      maxLength: 64,
      description:
        'RSA, EC, ED, DSA, BLS, AES, ChaCha20, …; stateful hash-based: LMS (HSS/LMS H5/W1), LMS-SHA256_M32_H<h>_W<w>[-H<h>_W<w>], XMSS-SHA256_10_256, XMSS-SHAKE256_10_256',
    }),
    algorithmOid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    curveOid: Type.Optional(
      Type.Union([Type.String({ maxLength: 64 }), Type.Null()], {
        description: 'curve OID (EC and ED keys)',
      }),
    ),
    keySize: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 16384 }), Type.Null()])),
    addressFormat: Type.Optional(Type.Union([AddressFormatSchema, Type.Null()])),
    attributes: KeyAttributesInputSchema,
    policy: Type.Optional(Type.Union([SkaPolicySchema, Type.Null()])),
  },
  { title: 'CreateKeyRequest' },
);

export const ImportKeyBodySchema = Type.Object(
  {
    label: LabelSchema,
    password: Type.Optional(PasswordSchema),
    id: Type.Optional(Type.Union([Type.String({ maxLength: 150 }), Type.Null()])),
    algorithm: Type.String({ minLength: 1, maxLength: 64 }),
    curveOid: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    privateKey: Type.Optional(
      Type.Union([Base64Schema('private key, PKCS#8 or PKCS#1 DER, or PEM'), Type.Null()]),
    ),
    publicKey: Type.Optional(
      Type.Union([Base64Schema('public key, SubjectPublicKeyInfo DER, or PEM'), Type.Null()]),
    ),
    secretKey: Type.Optional(Type.Union([Base64Schema('secret key bytes'), Type.Null()])),
    certificate: Type.Optional(Type.Union([Base64Schema('X.509 certificate DER, or PEM'), Type.Null()])),
    addressFormat: Type.Optional(Type.Union([AddressFormatSchema, Type.Null()])),
    attributes: Type.Optional(Type.Union([ImportAttributesSchema, Type.Null()])),
    policy: Type.Optional(Type.Union([SkaPolicySchema, Type.Null()])),
  },
  { title: 'ImportKeyRequest' },
);

export const SeedImportBodySchema = Type.Object(
  {
    label: LabelSchema,
    password: Type.Optional(PasswordSchema),
    id: Type.Optional(Type.Union([Type.String({ maxLength: 150 }), Type.Null()])),
    seed: Base64Schema('the BIP32 / SLIP-10 seed, 16 to 64 bytes (32 advised)', 128),
    curveOid: Type.String({
      minLength: 1,
      maxLength: 64,
      description:
        'secp256k1 1.3.132.0.10 (BIP32), P-256 1.2.840.10045.3.1.7 or Ed25519 1.3.101.112 (SLIP-10)',
    }),
    addressFormat: Type.Optional(Type.Union([AddressFormatSchema, Type.Null()])),
    attributes: KeyAttributesInputSchema,
    policy: Type.Optional(Type.Union([SkaPolicySchema, Type.Null()])),
  },
  { title: 'SeedImportRequest', description: 'the master key of a seed' },
);

/** `/v1/importedKey`: a seed (TSB importKey), or a key in plain as the docs' import tutorial posts it there. */
export const ImportedKeyBodySchema = Type.Union([SeedImportBodySchema, ImportKeyBodySchema], {
  title: 'ImportedKeyRequest',
});

export const LabelPasswordBodySchema = Type.Object(
  { label: LabelSchema, password: Type.Optional(PasswordSchema) },
  { title: 'KeyReference' },
);

export const ChangePasswordBodySchema = Type.Object(
  { label: LabelSchema, password: Type.Optional(PasswordSchema), newPassword: Type.Optional(PasswordSchema) },
  { title: 'ChangePasswordRequest' },
);

export const KeyNameParamsSchema = Type.Object({ keyName: LabelSchema });

export const SignedKeyAttributesSchema = Type.Object(
  {
    xml: Type.String({ description: 'key attributes as XML, signed by the attestation key' }),
    json: Type.Object({
      label: Type.String(),
      id: Type.Union([Type.String(), Type.Null()]),
      uuid: Type.String(),
      version: Type.Integer({
        description: 'OpenTSB: the key version, changed by every block, unblock, policy or password change',
      }),
      algorithm: Type.String(),
      algorithmOid: Type.String({
        description:
          'SPKI algorithm OID; for secret keys the OID of the algorithm family (docs/tsb-deviations.md)',
      }),
      curveOid: Type.Union([Type.String(), Type.Null()]),
      derivedAttributes: Type.Union([
        Type.Object({ derivationType: Type.String(), derivationValue: Type.String() }),
        Type.Null(),
      ]),
      keySize: Type.Union([Type.Integer(), Type.Null()]),
      keyUsageCount: Type.Integer(),
      createTime: Type.String({ format: 'date-time' }),
      attestTime: Type.String({ format: 'date-time' }),
      publicKey: Type.Union([Type.String({ description: 'SubjectPublicKeyInfo DER, base64' }), Type.Null()]),
      addressTruncated: Type.Union([
        Type.Object({ address: Type.String(), format: Type.String() }),
        Type.Null(),
      ]),
      attributes: Type.Object({
        decrypt: Type.Boolean(),
        sign: Type.Boolean(),
        ekaSign: Type.Union([Type.Boolean(), Type.Null()]),
        unwrap: Type.Boolean(),
        derive: Type.Boolean(),
        sensitive: Type.Boolean(),
        alwaysSensitive: Type.Boolean(),
        extractable: Type.Boolean(),
        neverExtractable: Type.Boolean(),
        modifiable: Type.Boolean(),
        copyable: Type.Boolean(),
        destroyable: Type.Boolean(),
      }),
      policy: Type.Union([SkaPolicySchema, Type.Null()]),
      parameterSet: Type.Optional(
        Type.String({
          description:
            'OpenTSB, stateful hash-based keys (algorithm HSS-LMS or XMSS) only: the key type the key was created with, e.g. LMS or LMS-SHA256_M32_H10_W4',
        }),
      ),
      remainingSignatures: Type.Optional(
        Type.Integer({
          description:
            'OpenTSB, stateful hash-based keys only: signatures the key can still make (one-time indices not yet reserved)',
        }),
      ),
    }),
    xmlSignature: Type.String({ description: 'ECDSA P-256/SHA-256 signature of xml (DER, base64)' }),
    attestationKeyName: Type.String(),
  },
  { title: 'SignedKeyAttributes' },
);

export const ExportedKeySchema = Type.Object(
  {
    label: Type.String(),
    algorithm: Type.String(),
    privateKey: Type.Union([Type.String({ description: 'PKCS#8 DER, base64' }), Type.Null()]),
    publicKey: Type.Union([Type.String({ description: 'SubjectPublicKeyInfo DER, base64' }), Type.Null()]),
    secretKey: Type.Union([Type.String({ description: 'raw secret key, base64' }), Type.Null()]),
    certificate: Type.Union([Type.String({ description: 'X.509 DER, base64' }), Type.Null()]),
  },
  { title: 'ExportedKey' },
);

export type CreateKeyBody = Static<typeof CreateKeyBodySchema>;
export type ImportKeyBody = Static<typeof ImportKeyBodySchema>;
export type SeedImportBody = Static<typeof SeedImportBodySchema>;
