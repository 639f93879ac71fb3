import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SkaOperation } from '../../../src/ska/challenge.js';
import { operationParameters, parametersDigest } from '../../../src/ska/operation-parameters.js';
import { errorOf } from './helpers.js';

const sha256hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('operation parameters (challenge item 0x7F06)', () => {
  it('SIGN: the digest is SHA-256 of the documented canonical JSON, defaults written out', () => {
    const json =
      '{"context":null,"payloadType":"UNSPECIFIED","signatureAlgorithm":"SHA256_WITH_ECDSA","signatureType":"DER"}';
    expect(parametersDigest('SIGN', { signatureAlgorithm: 'SHA256_WITH_ECDSA' }).toString('hex')).toBe(
      sha256hex(json),
    );
  });

  it('SIGN: leaving a field out, null and its default are the same; any other value is not', () => {
    const base = { payload: b64('P'), signKeyName: 'k', signatureAlgorithm: 'SHA256_WITH_ECDSA' };
    const digest = parametersDigest('SIGN', base);
    for (const same of [
      { signatureType: null, payloadType: null, context: null },
      { signatureType: 'DER', payloadType: 'UNSPECIFIED', context: '' },
      // not bound: what is signed is bound by the payload digest, the rest changes nothing
      { metaData: b64('m'), metaDataSignature: b64('s'), keyPassword: 'x', signKeyName: 'other' },
    ]) {
      expect(parametersDigest('SIGN', { ...base, ...same })).toEqual(digest);
    }
    for (const other of [
      { signatureAlgorithm: 'NONE_WITH_ECDSA' },
      { signatureAlgorithm: 'sha256_with_ecdsa' },
      { signatureType: 'RAW' },
      { payloadType: 'ETH' },
      { context: b64('ctx') },
    ]) {
      expect(parametersDigest('SIGN', { ...base, ...other })).not.toEqual(digest);
    }
  });

  it('DECRYPT: binary fields by their SHA-256, tagLength absent / 0 / 128 the same', () => {
    const iv = Buffer.alloc(12, 1);
    const request = {
      cipherAlgorithm: 'AES_GCM',
      initializationVector: iv.toString('base64'),
      additionalAuthenticationData: b64('aad'),
    };
    expect(operationParameters('DECRYPT', request)).toEqual({
      cipherAlgorithm: 'AES_GCM',
      initializationVector: sha256hex(iv),
      tagLength: 128,
      additionalAuthenticationData: sha256hex('aad'),
    });
    const digest = parametersDigest('DECRYPT', request);
    expect(parametersDigest('DECRYPT', { ...request, tagLength: 0 })).toEqual(digest);
    expect(parametersDigest('DECRYPT', { ...request, tagLength: 128 })).toEqual(digest);
    for (const other of [
      { tagLength: 96 },
      { cipherAlgorithm: 'AES_CBC_NO_PADDING' },
      { initializationVector: Buffer.alloc(12, 2).toString('base64') },
      { additionalAuthenticationData: null },
    ]) {
      expect(parametersDigest('DECRYPT', { ...request, ...other })).not.toEqual(digest);
    }
  });

  it("UNWRAP: the new key's label, wrap method, algorithm, attributes and policy; member order does not matter", () => {
    const request = {
      wrappedKey: b64('w'),
      unwrapKeyName: 'kek',
      label: 'u1',
      wrapMethod: 'AES_WRAP',
      attributes: { decrypt: true, extractable: false, sensitive: true },
    };
    const digest = parametersDigest('UNWRAP', request);
    expect(
      parametersDigest('UNWRAP', {
        ...request,
        attributes: { sensitive: true, extractable: false, decrypt: true },
        algorithm: null,
        policy: null,
        unwrapKeyPassword: 'x',
      }),
    ).toEqual(digest);
    for (const other of [
      { label: 'u2' },
      { wrapMethod: 'AES_WRAP_PAD' },
      { algorithm: 'AES' },
      { attributes: { decrypt: true, extractable: true, sensitive: false } },
      // refused as ambiguous rather than guessed: another spelling of the attributes needs its own approval
      { attributes: { decrypt: true, sensitive: true } },
      { policy: { ruleUse: null } },
    ]) {
      expect(parametersDigest('UNWRAP', { ...request, ...other })).not.toEqual(digest);
    }
  });

  it.each<SkaOperation>([
    'BLOCK',
    'UNBLOCK',
    'MODIFY',
    'CERTIFICATE_REQUEST',
    'SELF_SIGN_CERTIFICATE',
    'SIGN_CERTIFICATE',
  ])('%s has no parameters besides its payload: the digest of {}', (operation) => {
    expect(parametersDigest(operation, { anything: 1 }).toString('hex')).toBe(sha256hex('{}'));
  });

  it('a binary field that is not base64 is 600', () => {
    expect(
      errorOf(() => parametersDigest('SIGN', { signatureAlgorithm: 'X', context: 'not base64!' })).errorCode,
    ).toBe(600);
  });
});
