/**
 * ECIES encryption to an EC public key (`POST /v1/fileEncrypt`, reference §2.3 and §7.3), as SEC 1 v2
 * §5.1 defines it with the parameters the Primus HSM's ECIES mechanism names as its usual choice
 * (pkcs/Use-Cases/ecies): ANSI X9.63 KDF with SHA-256, AES-256-CBC with PKCS#7 padding, HMAC-SHA-256
 * with a 32-byte key and a 32-byte tag, no shared information.
 *
 * Cryptogram: `R ‖ C ‖ T` — R the ephemeral public key as an uncompressed SEC 1 point (`04 ‖ x ‖ y`),
 * C the AES-256-CBC ciphertext, T = HMAC-SHA-256(K_mac, C). The KDF output (64 bytes of
 * X9.63-SHA-256(Z), Z the x coordinate of the ECDH point) is K_enc ‖ K_mac. The IV is zero, as SEC 1
 * has it for CBC: every key is used once, because the ephemeral key is fresh for every message.
 * The TSB does not publish its cryptogram layout; docs/tsb-deviations.md records this choice.
 */
import {
  createCipheriv,
  createHash,
  createHmac,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { TsbError } from '../../errors.js';

const ENCRYPTION_KEY_BYTES = 32;
const MAC_KEY_BYTES = 32;
const ZERO_IV = Buffer.alloc(16);

/** ANSI X9.63 KDF: SHA-256(Z ‖ counter32be ‖ sharedInfo) for counter 1, 2, … until `length` bytes. */
export function x963Kdf(
  secret: Uint8Array,
  length: number,
  sharedInfo: Uint8Array = Buffer.alloc(0),
): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 1; blocks.length * 32 < length; counter++) {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    blocks.push(createHash('sha256').update(secret).update(count).update(sharedInfo).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** The uncompressed SEC 1 point of an EC public key. */
function uncompressedPoint(publicKey: KeyObject): Buffer {
  const { x, y } = publicKey.export({ format: 'jwk' });
  const xBytes = Buffer.from(x ?? '', 'base64url');
  const yBytes = Buffer.from(y ?? '', 'base64url');
  return Buffer.concat([Buffer.of(0x04), xBytes, yBytes]);
}

/** `R ‖ C ‖ T` of `plaintext` for the holder of the private half of `recipient` (an EC public key). */
export function eciesEncrypt(recipient: KeyObject, plaintext: Uint8Array): Buffer {
  const namedCurve = recipient.asymmetricKeyDetails?.namedCurve;
  if (recipient.asymmetricKeyType !== 'ec' || !namedCurve) {
    throw new TsbError('ALGORITHM_NOT_SUPPORTED_BY_KEY', 'ECIES needs an EC key on a named curve');
  }
  const ephemeral = generateKeyPairSync('ec', { namedCurve });
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
  const keys = x963Kdf(shared, ENCRYPTION_KEY_BYTES + MAC_KEY_BYTES);
  shared.fill(0);
  const encryptionKey = keys.subarray(0, ENCRYPTION_KEY_BYTES);
  const macKey = keys.subarray(ENCRYPTION_KEY_BYTES);
  const cipher = createCipheriv('aes-256-cbc', encryptionKey, ZERO_IV);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = createHmac('sha256', macKey).update(ciphertext).digest();
  keys.fill(0);
  return Buffer.concat([uncompressedPoint(ephemeral.publicKey), ciphertext, tag]);
}
