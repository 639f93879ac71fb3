/**
 * Request and response examples of the main operations, for the OpenAPI document. Taken from the Securosys
 * TSB documentation samples (test/fixtures/tsb-examples and the TSB reference), with labels made concrete and
 * OpenTSB's additional answer fields filled in. test/e2e/openapi.test.ts validates each against its schema.
 */

const APPROVER_PUBLIC_KEY =
  'MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAExj9TiTebXvwks88DGbBq0MPcGwpZ8yxKZOfEyDMHE3KXTQXadp6z2fVFNFcDHszl9fU9ilLqtcNxx3lGJE1eqA==';
const RSA_APPROVER_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArA0bxSqhL7xfvcHbKKa8wMTMsIeJfYRdIgPxp5cU9JcmV86kyfpyRcSNSi44LVeNmAi94F3OZrXXi6CZvWrFL+VcewUtUSu+kG5oLJ9T4O6R2I5GO2Ev1HJnK3WfHOsFKFxLGzmKyjEkSLGgopY+Nh74K8Q6yxsvQPETOs9TzQiUXFYlfEZnbjUWG4eAgW9WWEopmK/X295ToOuTHFzmzO00btkjAy6vwWOabCE4kaJg+bCNW1snZz84uonr60rB9H0Mj98RbTfbDyMh6cIkaj8WrXeaYh4fxQYXApYu3nzhe3Q1bNCzV5M68rCsgVrmWcK/xUhM9BK6QHSwS/l76wIDAQAB';
const CHALLENGE =
  '4AAAADsABAABAAAAAhASAFRTQl9UVVRPUklBTF8xLVJTQQAAVBBAADwAAABXEBYAQXBwcm92ZVNpZ25UYXNrUGF5bG9hZAAABwEIANcU814AAAAAAhANAHRpbWVzdGFtcC1rZXkAAABWEFkAMFcwDAYIKoZIzj0EAwIFAANHADBEAiADPniQDGELMUTqJCJ17kW3bUInXIf8dy9mwsseJ7voJAIgK3Kh4JjkR+RDugYKlp4x3M6UQIXkyQ5OuavkL0V5b5sAAABXEBYAQXBwcm92ZVNpZ25UYXNrUGF5bG9hZAAA';
const RSA_SIGNATURE =
  'H3bq8PdgSiAlhB0kt1RSD6a3JYXZoj/dz3Nb/MHlgISnmh6x3TPtnV+9mUnw8PV2Ss1pq8txdMOBg9SF8uaKyUvFtLl/QFHIgllm/Q/uvrjaM205Cdz1uaSLePXaNXeC012l1sqlhnyqGKxKTKejMngzNHAnOpwU7kGCEpKPFWL5ltaBRYd3Q/I/F9IufAsKHj+3ky/p6tYN5VPhJSKiSE2YuVyOzGPHY40ipVo/7deBtUUjZmaZAgVQNC1mC79LOhIHLj8Ce4i41CbFZA+ZSMe+nx5bP/7uPA+kbGAjvNS3KLOFeZJ2OJCkTuThsXVh7rTp9tVqYqHU1LZm8f9bYA==';
const REQUEST_ID = '4e8731d8-0ae6-4444-8a8c-b73ab5f0ba18';
const TASK_ID = '6947856a-e3a1-44cf-bb99-bbd2995642ca';

const RULE_1_OF_1 = {
  tokens: [
    {
      name: 'Token1',
      timelock: 0,
      timeout: 3600,
      groups: [
        {
          name: 'Group1',
          quorum: 1,
          approvals: [{ type: 'public_key', name: 'ApproverKey1', value: APPROVER_PUBLIC_KEY }],
        },
      ],
    },
  ],
};

const SIGNED_ATTRIBUTES = {
  xml: '<?xml version="1.0" encoding="UTF-8"?><key><label>TSB_TUTORIAL_1-RSA</label>…</key>',
  json: {
    label: 'TSB_TUTORIAL_1-RSA',
    id: null,
    uuid: '0b6f5c1e-5d0a-4c8e-9c53-0f7b8d1f6a21',
    version: 1,
    algorithm: 'RSA',
    algorithmOid: '1.2.840.113549.1.1.1',
    curveOid: null,
    derivedAttributes: null,
    keySize: 2048,
    keyUsageCount: 0,
    createTime: '2026-02-24T15:10:03Z',
    attestTime: '2026-02-24T15:10:03Z',
    publicKey: RSA_APPROVER_PUBLIC_KEY,
    addressTruncated: null,
    attributes: {
      decrypt: false,
      sign: true,
      ekaSign: null,
      unwrap: false,
      derive: false,
      sensitive: true,
      alwaysSensitive: true,
      extractable: false,
      neverExtractable: true,
      modifiable: true,
      copyable: false,
      destroyable: true,
    },
    policy: null,
  },
  xmlSignature:
    'MEUCIQDf3n2XxkqS5k0mYq2Yb7xk0lq3p8m5Zt1c5a9m2w8o1QIgR0J3w4pK9ZfVx6p3jQZl2cQ1m2l3o4p5q6r7s8t9u0A=',
  attestationKeyName: 'attestation-key',
};

export interface OperationExamples {
  request?: unknown;
  response?: unknown;
}

/** By operationId. */
export const OPERATION_EXAMPLES: Record<string, OperationExamples> = {
  createKey: {
    request: {
      label: 'TSB_TUTORIAL_1-RSA',
      algorithm: 'RSA',
      keySize: 2048,
      attributes: { decrypt: false, sign: true, unwrap: false, destroyable: true },
      policy: { ruleUse: RULE_1_OF_1 },
    },
    response: SIGNED_ATTRIBUTES,
  },
  getKeys: { response: ['TSB_TUTORIAL_1-RSA', 'kms-wrapping-key-aes', 'test-ec-key'] },
  getKeyAttributesWithKeyPassword: {
    request: { label: 'TSB_TUTORIAL_1-RSA' },
    response: SIGNED_ATTRIBUTES,
  },
  getKeyAttributes: { response: SIGNED_ATTRIBUTES },
  deleteKeyWithPassword: { request: { label: 'old-key', password: 'REPLACE' } },
  synchronousSign: {
    request: {
      signRequest: {
        payload: 'UGF5bG9hZA==',
        signKeyName: 'rsa-key',
        signatureAlgorithm: 'SHA224_WITH_RSA_PSS',
      },
    },
    response: { signature: RSA_SIGNATURE },
  },
  verifySignature: {
    request: {
      verifySignatureRequest: {
        signKeyName: "ec_slip_10/44'/0'/0'/0'",
        signatureAlgorithm: 'SHA256_WITH_ECDSA',
        payload: 'U2lnblBheWxvYWREZW1v',
        signature:
          'MEQCIE/3O9poWWby9o+DRyC6INWPK2eZX4dFhrgdIFsokhWxAiBPHCdsPtRM4uRVpxAbQQEIWUMUVRIh7OMQfAEzw4TH7g==',
      },
    },
    response: { signatureValid: true },
  },
  encrypt: {
    request: {
      encryptRequest: {
        payload: 'RW5jcnlwdERlY3J5cHREZW1v',
        encryptKeyName: 'aes-key',
        keyPassword: ['R', 'E', 'P', 'L', 'A', 'C', 'E'],
        cipherAlgorithm: 'AES_GCM',
        tagLength: 128,
      },
    },
    response: {
      encryptedPayload: 'ZK/UOxbOPW9rYWe8vZqCmDzfP5r6kv2zpdsE8hnbqg2MCA==',
      encryptedPayloadWithoutMessageAuthenticationCode: 'ZK/UOxbOPW9rYWe8vZqCmDzf',
      initializationVector: 'C73HyZuY5nnKyChF',
      messageAuthenticationCode: 'P5r6kv2zpdsE8hnbqg2MCA==',
    },
  },
  synchronousDecrypt: {
    request: {
      decryptRequest: {
        encryptedPayload: 'ZK/UOxbOPW9rYWe8vZqCmDzfP5r6kv2zpdsE8hnbqg2MCA==',
        decryptKeyName: 'aes-key',
        keyPassword: ['R', 'E', 'P', 'L', 'A', 'C', 'E'],
        cipherAlgorithm: 'AES_GCM',
        initializationVector: 'C73HyZuY5nnKyChF',
        tagLength: 128,
      },
    },
    response: { payload: 'RW5jcnlwdERlY3J5cHREZW1v' },
  },
  wrap: {
    request: {
      wrapKeyRequest: {
        keyToBeWrapped: 'test-ec-key',
        wrapKeyName: 'kms-wrapping-key-aes',
        wrapMethod: 'AES_WRAP_EC',
      },
    },
    response: {
      wrappedKey:
        'FgqsoaNa7nA2RoHnUUWUpnZXz6RvkPNma5bLOFwU4+xSGt7O3+WKmq3SSWe9BEHSvdhKE7cTGyvaJIt2QX0XpXh6eYKXmgSwGqfsPxuAFXXAyZg+PXdrpF5waqvTVLjG/UufzRGiEiJmQ2vLsxtkFgqNy8SwPeWi7IZ9jC62QZQ0psH0EuYBCG/bzx/FaVRRozmK4SlgvVzcwGDA5JdpOQJwCg9jKAkIiDrnN8uzfnm3vpkpoV0kgg==',
    },
  },
  synchronousUnwrap: {
    request: {
      unwrapKeyRequest: {
        wrappedKey:
          'FgqsoaNa7nA2RoHnUUWUpnZXz6RvkPNma5bLOFwU4+xSGt7O3+WKmq3SSWe9BEHSvdhKE7cTGyvaJIt2QX0XpXh6eYKXmgSwGqfsPxuAFXXAyZg+PXdrpF5waqvTVLjG/UufzRGiEiJmQ2vLsxtkFgqNy8SwPeWi7IZ9jC62QZQ0psH0EuYBCG/bzx/FaVRRozmK4SlgvVzcwGDA5JdpOQJwCg9jKAkIiDrnN8uzfnm3vpkpoV0kgg==',
        label: 'unwrapped-ec-key',
        attributes: {
          encrypt: true,
          decrypt: true,
          verify: true,
          sign: true,
          wrap: true,
          unwrap: true,
          derive: false,
          bip32: false,
          slip10: false,
          extractable: false,
          modifiable: true,
          destroyable: false,
          sensitive: true,
          copyable: false,
        },
        unwrapKeyName: 'kms-wrapping-key-aes',
        wrapMethod: 'AES_WRAP_EC',
      },
    },
  },
  sign: {
    request: {
      signRequest: {
        payload: 'QXBwcm92ZVNpZ25UYXNrUGF5bG9hZA==',
        payloadType: 'UNSPECIFIED',
        signKeyName: 'TSB_TUTORIAL_1-RSA',
        signatureAlgorithm: 'SHA256_WITH_RSA',
      },
    },
    response: { signRequestId: REQUEST_ID },
  },
  modify: {
    request: {
      modifyRequest: {
        modifyKeyName: 'TSB_TUTORIAL_1-RSA',
        keyPassword: null,
        metaData: 'U29tZU1ldGFEYXRh',
        metaDataSignature: 'TWV0YURhdGFTaWduYXR1cmU=',
        policy: {
          ruleUse: RULE_1_OF_1,
          ruleBlock: RULE_1_OF_1,
          ruleUnblock: RULE_1_OF_1,
          ruleModify: RULE_1_OF_1,
        },
      },
      requestSignature: null,
    },
    response: { modifyKeyRequestId: '6db61033-40c0-4ee1-97c3-6686d61353c7' },
  },
  getRequestStatus: {
    response: {
      id: REQUEST_ID,
      status: 'EXECUTED',
      executionTime: '2026-06-24T08:54:47Z',
      approvedBy: [RSA_APPROVER_PUBLIC_KEY],
      notYetApprovedBy: [],
      rejectedBy: [],
      result: RSA_SIGNATURE,
      operation: 'SIGN',
      keyName: 'TSB_TUTORIAL_1-RSA',
      createdAt: '2026-06-24T08:52:10Z',
      executableAt: '2026-06-24T08:54:47Z',
      expiresAt: '2026-06-24T09:52:10Z',
      rejections: [],
      errorCode: null,
      errorMessage: null,
    },
  },
  filterSignTasks: {
    request: {
      timestamp: '2026-10-30T17:30:24+00:00',
      timestampSignature:
        'VuZ0f/VEM2iq0zGCAVFTgWWD5zLJGCtUs/Eh3ecz4lYXSU42TwTWjwL6EQ4SHXf2gYZoci5q5nwswxkd0i4gvQ5fKd3lM8RzleDUziWqicrak65guIKynYuOvvYE29yqkwQ20N4FTKHAoseokIch8ByhxTeURFAinWHJZ9Rhf9ShojGn5f5/sP6G8C7WHMOaOB7f5e+FrjRfQs660rVaVjQU6XKmRrtKHsQQcMTz2Npm4/ikBolVSUXV4ZWUofA8ZR3+/aBsINw/CALnNIp+9mU6WEbneRz6nK1/LWV/VMT8A9J4gEo8GIGGSCFWlbq2P6DxTxLSHByEiNelYxOkqA==',
      approverPublicKey: RSA_APPROVER_PUBLIC_KEY,
      timestampDigestAlgorithm: 'SHA-256',
      detailLevel: 'level1',
      paging: { pageNumber: 0, pageSize: 1, sortOrder: 'CREATION_DATE_ASC' },
    },
  },
  approveTask: {
    request: {
      id: TASK_ID,
      approvalToBeSigned: CHALLENGE,
      signature:
        'Mn/DQgm2yQbmFgcsEB+v3ACJgIbVo6IFSa7bDfMXmQXJZU21lVE0Bv46dTN6D4oWU/LYTuUYcIXmmRMChVgvRQvF254CctvDww99/ZUB+RrJ5LKE4t4gbHMgORntY/u3lM1CtmD5LwxONcB+3FwIyiODGPiDtfabgAucoGQ1X3Gdvn6KuESfFxtQfr3yn/FcMHBCGZDPPCIDDRaql3u9rI81emhyh7Oi1iXEypHAi9jzAUWRjnFCFtbOOs5MERN+54HxZF8wfY58aZLlHPF0GIhpC9+92NS7GRe0oO+gwlYX43NvewHwitTUMBE0ctd5xoNDkhuu8zMPTJJwiHqbmA==',
      approvalDigestAlgorithm: 'SHA-256',
      approverPublicKey: RSA_APPROVER_PUBLIC_KEY,
    },
  },
};
