import { Type } from 'typebox';
import { CIPHER_ALGORITHMS } from '../../crypto/ciphers/ciphers.js';
import { SIGNATURE_ALGORITHMS } from '../../crypto/signatures/signature-algorithms.js';
import { PasswordSchema } from '../../http/common.schema.js';
import { OptionalOrNull } from '../../lib/schema-fields.js';
import { SkaPolicySchema } from '../../ska/policy.schema.js';
import { KeyAttributesInputSchema } from '../keys/keys.schema.js';

/** Generous transport bound; the service refuses payloads above MAX_PAYLOAD_BYTES with errorCode 612. */
export const Binary = (description: string) =>
  Type.String({ maxLength: 1_048_576, description: `${description} (base64)` });
export const OptionalBinary = (description: string) =>
  Type.Optional(Type.Union([Binary(description), Type.Null()]));
/** A sign or verify payload: base64, or hex text when payloadType is HEX. */
const SignPayload = (description: string) =>
  Type.String({
    maxLength: 1_048_576,
    description: `${description} (base64; hex text with payloadType HEX)`,
  });
export const OptionalText = (description: string, maxLength = 64) =>
  Type.Optional(Type.Union([Type.String({ maxLength, description }), Type.Null()]));
export const KeyName = (description: string) =>
  Type.String({
    minLength: 1,
    maxLength: 1024,
    description: `${description}; may end in a derivation path (label/44'/0'/0')`,
  });

/**
 * The algorithm names the service knows, listed in the description rather than enforced as an enum: TSB
 * clients also send OIDs and spellings the parsers map (test/conformance), and those must keep working.
 */
const SIGNATURE_ALGORITHM = Type.String({
  minLength: 1,
  maxLength: 64,
  description: `the signature algorithm, one of the key's family: ${SIGNATURE_ALGORITHMS.map((a) => a.name).join(', ')} (or the algorithm OID)`,
});
const CIPHER_ALGORITHM = Type.String({
  minLength: 1,
  maxLength: 64,
  description: `the cipher: ${CIPHER_ALGORITHMS.join(', ')}`,
});

/** Pre-signed approvals for keys whose SKA rule needs approval (docs/approval-challenge.md, "Pre-signed approvals"). */
export const SignedApprovals = Type.Optional(
  Type.Union([Type.Array(Type.String({ maxLength: 65_536 }), { maxItems: 64 }), Type.Null()]),
);
export const RequestSignature = Type.Optional(
  Type.Union([
    Type.Object({
      signature: Type.Optional(Type.Union([Type.String({ maxLength: 16_384 }), Type.Null()])),
      digestAlgorithm: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Null()])),
      publicKey: Type.Optional(Type.Union([Type.String({ maxLength: 16_384 }), Type.Null()])),
    }),
    Type.Null(),
  ]),
);

export const SignRequestSchema = Type.Object({
  payload: SignPayload('data to sign, or the digest for NONE* algorithms'),
  payloadType: OptionalText(
    'UNSPECIFIED, ISO_20022, PDF, BTC, ETH (how approvers are shown the payload) or HEX (the payload is hex text)',
  ),
  signKeyName: KeyName('label of the signing key'),
  signKeyObject: Type.Optional(
    Type.Union([Type.Unknown({ description: 'external key object (not supported)' }), Type.Null()]),
  ),
  keyPassword: Type.Optional(PasswordSchema),
  metaData: OptionalBinary('document shown to approvers'),
  metaDataSignature: OptionalBinary('signature over the decoded metaData'),
  signatureAlgorithm: SIGNATURE_ALGORITHM,
  signatureType: OptionalText('DER (default), RAW (r‖s) or ETH (r‖s‖v)'),
  auxiliaryRandomData: OptionalBinary('auxiliary randomness (not used)'),
  context: OptionalBinary('ML-DSA / SLH-DSA context string'),
});

export const SynchronousSignBodySchema = Type.Object({
  signRequest: SignRequestSchema,
  signedApprovals: SignedApprovals,
  requestSignature: RequestSignature,
});

export const SignatureResponseSchema = Type.Object({ signature: Type.String({ description: 'base64' }) });

export const VerifySignatureRequestSchema = Type.Object({
  signKeyName: KeyName('label of the key whose public key verifies'),
  signKeyObject: Type.Optional(
    Type.Union([Type.Unknown({ description: 'external key object (not supported)' }), Type.Null()]),
  ),
  masterKeyPassword: Type.Optional(PasswordSchema),
  keyPassword: Type.Optional(PasswordSchema),
  signatureAlgorithm: SIGNATURE_ALGORITHM,
  payload: SignPayload('signed data, or its digest for NONE* algorithms'),
  payloadType: OptionalText('as for signing'),
  signature: Binary('signature'),
  signatureType: OptionalText('DER (default), RAW or ETH'),
  context: OptionalBinary('ML-DSA / SLH-DSA context string'),
});

export const VerifyHmacRequestSchema = Type.Object({
  keyName: KeyName('label of the HMAC key'),
  keyPassword: Type.Optional(PasswordSchema),
  payload: Binary('data'),
  signature: Binary('the MAC to check'),
});

export const VerifyBodySchema = Type.Object({
  verifySignatureRequest: OptionalOrNull(VerifySignatureRequestSchema),
  verifyHmacRequest: OptionalOrNull(VerifyHmacRequestSchema),
});

export const VerifyResponseSchema = Type.Object({ signatureValid: Type.Boolean() });

export const HmacBodySchema = Type.Object({
  hmacRequest: Type.Object({
    keyName: KeyName('label of the HMAC key'),
    keyPassword: Type.Optional(PasswordSchema),
    payload: Binary('data'),
  }),
});

export const HmacResponseSchema = Type.Object({
  keyedHash: Type.String({ description: 'HMAC-SHA-256, base64' }),
});

export const EncryptBodySchema = Type.Object({
  encryptRequest: Type.Object({
    payload: Binary('plaintext'),
    encryptKeyName: KeyName('label of the encryption key'),
    keyPassword: Type.Optional(PasswordSchema),
    cipherAlgorithm: CIPHER_ALGORITHM,
    tagLength: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 1024 }), Type.Null()])),
    additionalAuthenticationData: OptionalBinary('additional authenticated data (AEAD ciphers)'),
  }),
});

const NullableBinary = (description: string) =>
  Type.Union([Type.String({ description: `${description} (base64)` }), Type.Null()]);

export const EncryptResponseSchema = Type.Object({
  encryptedPayload: Type.String({
    description: 'ciphertext, with the MAC appended for AEAD ciphers (base64)',
  }),
  encryptedPayloadWithoutMessageAuthenticationCode: NullableBinary('ciphertext without MAC'),
  initializationVector: NullableBinary('IV or nonce'),
  messageAuthenticationCode: NullableBinary('authentication tag'),
});

export const DecryptBodySchema = Type.Object({
  decryptRequest: Type.Object({
    encryptedPayload: Binary('ciphertext (with the MAC appended for AEAD ciphers)'),
    decryptKeyName: KeyName('label of the decryption key'),
    keyPassword: Type.Optional(PasswordSchema),
    cipherAlgorithm: CIPHER_ALGORITHM,
    initializationVector: OptionalBinary('IV or nonce'),
    tagLength: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 1024 }), Type.Null()])),
    additionalAuthenticationData: OptionalBinary('additional authenticated data'),
    metaData: OptionalBinary('document shown to approvers'),
    metaDataSignature: OptionalBinary('signature over the decoded metaData'),
  }),
  signedApprovals: SignedApprovals,
  requestSignature: RequestSignature,
});

export const DecryptResponseSchema = Type.Object({
  payload: Type.String({ description: 'plaintext (base64)' }),
});

export const WrapBodySchema = Type.Object({
  wrapKeyRequest: Type.Object({
    keyToBeWrapped: KeyName('label of the key to wrap'),
    keyToBeWrappedPassword: Type.Optional(PasswordSchema),
    wrapKeyName: KeyName('label of the wrapping key'),
    wrapKeyPassword: Type.Optional(PasswordSchema),
    wrapMethod: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'e.g. AES_WRAP_PAD, AES_WRAP_EC, RSA_WRAP_OAEP, ML-KEM-768',
    }),
  }),
});

export const WrapResponseSchema = Type.Object({ wrappedKey: Type.String({ description: 'base64' }) });

export const UnwrapBodySchema = Type.Object({
  unwrapKeyRequest: Type.Object({
    wrappedKey: Binary('wrapped key'),
    label: Type.String({ minLength: 1, maxLength: 150, description: 'label of the new key' }),
    unwrapKeyName: KeyName('label of the unwrapping key'),
    unwrapKeyPassword: Type.Optional(PasswordSchema),
    wrapMethod: Type.String({ minLength: 1, maxLength: 64 }),
    algorithm: OptionalText('algorithm of a wrapped secret key (OpenTSB extension; default AES)'),
    attributes: KeyAttributesInputSchema,
    policy: Type.Optional(Type.Union([SkaPolicySchema, Type.Null()])),
    metaData: OptionalBinary('document shown to approvers'),
    metaDataSignature: OptionalBinary('signature over the decoded metaData'),
  }),
  signedApprovals: SignedApprovals,
  requestSignature: RequestSignature,
});

export const AddressBodySchema = Type.Object({
  label: KeyName('label of an SKA key created with an addressFormat'),
  password: Type.Optional(PasswordSchema),
});

export const AddressResponseSchema = Type.Object({ address: Type.String() });

export const DeriveKeyBodySchema = Type.Object({
  label: KeyName("the parent key and the path to derive, e.g. wallet/44'/0'/0'"),
  newLabel: Type.String({
    minLength: 1,
    maxLength: 150,
    description: 'label of the new, persisted child key',
  }),
  password: Type.Optional(PasswordSchema),
  newPassword: Type.Optional(PasswordSchema),
  attributes: Type.Optional(Type.Union([KeyAttributesInputSchema, Type.Null()])),
});

export const DeriveKeyResponseSchema = Type.Object({
  label: Type.String(),
  derivationType: Type.String({ description: 'BIP32 or SLIP-10' }),
  derivationValue: Type.String({ description: 'chain code of the child, upper-case hex' }),
  path: Type.String({ description: "the path derived, e.g. 44'/0'/0'" }),
});
