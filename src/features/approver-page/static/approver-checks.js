// What the approver page checks before it lets an approver sign, in the browser and with WebCrypto:
// the challenge is decoded here (docs/approval-challenge.md) and must agree with the task, the payload
// must hash to its digest, the request shown must have the operation parameters the challenge binds,
// the timestamp signature must verify with the partition timestamp certificate, the key attributes
// with the attestation certificate, and both must chain to the root.

export const toBase64 = (bytes) => {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text);
};
export const fromBase64 = (text) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
export const toHex = (bytes) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');
export const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
const equalBytes = (a, b) => a.length === b.length && a.every((byte, i) => byte === b[i]);

// ---- text from the service as shown: the rules of src/lib/display-text.ts (a test holds both to the same
// answers). Invisible and reordering characters (controls, bidi and other format characters, separators
// other than the space, private-use, unassigned, unpaired surrogates) become escapes such as \u202e.

const HIDDEN_OR_BACKSLASH = /(?! )[\p{C}\p{Z}]|\\/gu;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function escapeCharacter(char) {
  if (char === '\\') return '\\\\';
  const code = char.codePointAt(0);
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export const escapeForDisplay = (text) => String(text).replace(HIDDEN_OR_BACKSLASH, escapeCharacter);

/** A key label: escaped, and followed by its ASCII-only spelling when it holds characters beyond ASCII. */
export function displayLabel(label) {
  const shown = escapeForDisplay(label);
  if (PRINTABLE_ASCII.test(shown)) return shown;
  const ascii = [...String(label)]
    .map((char) => (char !== '\\' && PRINTABLE_ASCII.test(char) ? char : escapeCharacter(char)))
    .join('');
  return `${shown} (as ASCII: ${ascii})`;
}

export const OPERATIONS = {
  1: 'SIGN',
  2: 'BLOCK',
  3: 'UNBLOCK',
  4: 'MODIFY',
  5: 'UNWRAP',
  6: 'DECRYPT',
  7: 'CERTIFICATE_REQUEST',
  8: 'SELF_SIGN_CERTIFICATE',
  9: 'SIGN_CERTIFICATE',
};

// ---- the challenge frame: u32le length, then items u16le tag, u16le length, value, zero padding to 4

function readFrame(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint32(0, true) !== bytes.length - 4) throw new Error('bad frame length');
  const items = [];
  for (let offset = 4; offset < bytes.length; ) {
    if (offset + 4 > bytes.length) throw new Error('truncated item');
    const tag = view.getUint16(offset, true);
    const length = view.getUint16(offset + 2, true);
    const end = offset + 4 + length;
    if (end > bytes.length) throw new Error('truncated item');
    items.push({ tag, value: bytes.subarray(offset + 4, end) });
    offset = end + ((4 - (length % 4)) % 4);
  }
  return items;
}

function only(items, tag, size) {
  const found = items.filter((item) => item.tag === tag);
  if (found.length > 1) throw new Error(`tag 0x${tag.toString(16)} twice`);
  if (found.length === 0) return null;
  if (size !== undefined && found[0].value.length !== size)
    throw new Error(`tag 0x${tag.toString(16)}: bad size`);
  return found[0].value;
}

const uuid = (bytes) => toHex(bytes).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
const u32 = (bytes) => new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);

export function decodeChallenge(bytes) {
  const outer = readFrame(bytes);
  const block = only(outer, 0x1054);
  if (!block) throw new Error('no timestamp container');
  const inner = readFrame(block);
  const code = u32(only(outer, 0x003b, 4));
  const digest = only(inner, 0x7f01, 32);
  const trailing = only(outer, 0x7f01, 32);
  if (!digest || !trailing || !equalBytes(digest, trailing)) throw new Error('payload digests differ');
  const parametersDigest = only(inner, 0x7f06, 32);
  if (!parametersDigest) throw new Error('no operation parameters digest (tag 0x7f06)');
  const requestId = only(inner, 0x7f02, 16);
  const seconds = new DataView(block.buffer, only(inner, 0x0107, 8).byteOffset, 8).getBigUint64(0, true);
  return {
    operation: OPERATIONS[code] ?? `unknown (${code})`,
    keyLabel: new TextDecoder('utf-8', { fatal: true }).decode(only(outer, 0x1002)),
    payloadDigest: digest,
    parametersDigest,
    keyId: uuid(only(inner, 0x7f04, 16)),
    keyVersion: u32(only(inner, 0x7f05, 4)),
    requestId: requestId ? uuid(requestId) : null,
    createdAt: new Date(Number(seconds) * 1000),
    timestampBlock: block,
    timestampSignature: only(outer, 0x1056),
  };
}

// ---- operation parameters: the rules of src/ska/operation-parameters.ts and src/lib/canonical-json.ts
// (a test holds both to the same digests). Absent and null are the same, documented defaults are written
// out, binary fields are the hex SHA-256 of their bytes, everything else is bound exactly as sent.

/**
 * Object keys sorted recursively, no whitespace, `undefined` members dropped; a member named `__proto__` is kept,
 * and a number JSON cannot write (1e999 read as Infinity) is refused, as the service does.
 */
export const canonicalJson = (value) => JSON.stringify(sortKeys(value));

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error('a number JSON cannot write (such as 1e999) has no canonical form');
  }
  if (value === null || typeof value !== 'object') return value;
  const sorted = Object.create(null);
  for (const name of Object.keys(value).sort()) {
    if (value[name] !== undefined) sorted[name] = sortKeys(value[name]);
  }
  return sorted;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const parameterText = (value) => (value === undefined || value === null ? null : String(value));

async function binaryDigest(value, field) {
  if (value === undefined || value === null || value === '') return null;
  const compact = String(value).replace(/\s+/g, '');
  if (!STRICT_BASE64.test(compact)) throw new Error(`${field} is not valid base64`);
  const bytes = fromBase64(compact);
  return bytes.length === 0 ? null : toHex(await sha256(bytes));
}

function tagLength(value) {
  if (value === undefined || value === null || value === 0) return 128;
  return typeof value === 'number' ? value : String(value);
}

const jsonValue = (value) => (value === undefined ? null : value);

/** The parameters of `operation` as the inner request (`signRequest`, …) gives them, defaults written out. */
export async function operationParameters(operation, request) {
  switch (operation) {
    case 'SIGN':
      return {
        signatureAlgorithm: parameterText(request.signatureAlgorithm),
        signatureType: parameterText(request.signatureType) ?? 'DER',
        payloadType: parameterText(request.payloadType) ?? 'UNSPECIFIED',
        context: await binaryDigest(request.context, 'context'),
      };
    case 'DECRYPT':
      return {
        cipherAlgorithm: parameterText(request.cipherAlgorithm),
        initializationVector: await binaryDigest(request.initializationVector, 'initializationVector'),
        tagLength: tagLength(request.tagLength),
        additionalAuthenticationData: await binaryDigest(
          request.additionalAuthenticationData,
          'additionalAuthenticationData',
        ),
      };
    case 'UNWRAP':
      return {
        label: parameterText(request.label),
        wrapMethod: parameterText(request.wrapMethod),
        algorithm: parameterText(request.algorithm),
        attributes: jsonValue(request.attributes),
        policy: jsonValue(request.policy),
      };
    case 'BLOCK':
    case 'UNBLOCK':
    case 'MODIFY':
    case 'CERTIFICATE_REQUEST':
    case 'SELF_SIGN_CERTIFICATE':
    case 'SIGN_CERTIFICATE':
      return {};
    default:
      throw new Error(`no operation parameters for operation ${operation}`);
  }
}

/** SHA-256 of the canonical JSON of {@link operationParameters}: what the challenge's 0x7F06 item must hold. */
export async function parametersDigest(operation, request) {
  return sha256(new TextEncoder().encode(canonicalJson(await operationParameters(operation, request))));
}

/** The inner request of the task's `signed…Request` echo (level 4 and up), e.g. `signedSignRequest.signRequest`. */
function echoedRequest(task) {
  for (const [field, value] of Object.entries(task)) {
    if (!field.startsWith('signed') || typeof value !== 'object' || value === null) continue;
    const inner = Object.entries(value).find(([name]) => name !== 'requestSignature')?.[1];
    if (typeof inner === 'object' && inner !== null) return inner;
  }
  return null;
}

/** Shows the parameters of the request the task echoes and checks them against the challenge's digest. */
async function reviewParameters(task, decoded, rows, problems) {
  const request = echoedRequest(task);
  if (request === null) {
    // the page always asks for level 5: a task without the request hides what the approver signs for
    rows.push(['Operation parameters', '(the task shows no request)', 'invalid']);
    problems.push('the task does not show the request, so its operation parameters cannot be checked');
    return;
  }
  let ok = false;
  try {
    const parameters = await operationParameters(decoded.operation, request);
    rows.push(['Operation parameters', escapeForDisplay(JSON.stringify(parameters))]);
    ok = equalBytes(await parametersDigest(decoded.operation, request), decoded.parametersDigest);
  } catch (error) {
    rows.push(['Operation parameters', `INVALID: ${escapeForDisplay(error.message)}`, 'invalid']);
  }
  rows.push(['Operation parameters check', ok ? 'VALID' : 'INVALID', ok ? 'valid' : 'invalid']);
  if (!ok) problems.push('the request shown does not have the operation parameters the challenge binds');
}

// ---- DER: just enough for certificates and ECDSA signatures

function element(bytes, offset) {
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i];
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > bytes.length) throw new Error('truncated DER');
  return { tag, start: offset, contentStart, end };
}

function children(bytes, parent) {
  const list = [];
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const child = element(bytes, offset);
    list.push(child);
    offset = child.end;
  }
  return list;
}

/** DER ECDSA-Sig-Value → r‖s of 32 bytes each, what WebCrypto verifies. */
function ecdsaRaw(der) {
  const [r, s] = children(der, element(der, 0));
  const half = (part) => {
    let value = der.subarray(part.contentStart, part.end);
    while (value.length > 32 && value[0] === 0) value = value.subarray(1);
    const out = new Uint8Array(32);
    out.set(value, 32 - value.length);
    return out;
  };
  return new Uint8Array([...half(r), ...half(s)]);
}

const verifyEcdsa = async (spki, derSignature, data) => {
  const key = await crypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'verify',
  ]);
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, ecdsaRaw(derSignature), data);
};

/** A PEM certificate: its DER, to-be-signed part, signature and SubjectPublicKeyInfo. */
function certificate(pem) {
  const der = fromBase64(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''));
  const [tbs, , signatureBits] = children(der, element(der, 0));
  const fields = children(der, tbs);
  const rest = fields[0].tag === 0xa0 ? fields.slice(1) : fields;
  const spki = rest[5];
  return {
    der,
    tbs: der.subarray(tbs.start, tbs.end),
    signature: der.subarray(signatureBits.contentStart + 1, signatureBits.end),
    spki: der.subarray(spki.start, spki.end),
  };
}

/** The partition's chain (GET /v1/attestation/certificates), each certificate checked against its issuer. */
export async function checkChain(pems) {
  const [root, device, attestation, timestamp] = [
    pems.root,
    pems.device,
    pems.attestation,
    pems.timestamp,
  ].map(certificate);
  const signedBy = (cert, issuer) => verifyEcdsa(issuer.spki, cert.signature, cert.tbs);
  const valid =
    (await signedBy(root, root)) &&
    (await signedBy(device, root)) &&
    (await signedBy(attestation, device)) &&
    (await signedBy(timestamp, device));
  return { valid, rootFingerprint: toHex(await sha256(root.der)), attestation, timestamp };
}

function timestampSignatureOf(wrapped) {
  // SEQUENCE { AlgorithmIdentifier, BIT STRING (0 unused bits, ECDSA-Sig-Value) }
  const [, bits] = children(wrapped, element(wrapped, 0));
  return wrapped.subarray(bits.contentStart + 1, bits.end);
}

function printable(bytes) {
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  // control and bidi characters (other than tab and line breaks) could disguise what is shown
  for (const char of text) {
    const code = char.codePointAt(0);
    const control = code < 0x20 ? ![0x09, 0x0a, 0x0d].includes(code) : code >= 0x7f && code <= 0x9f;
    const bidi = (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
    if (control || bidi) return null;
  }
  return text;
}

export function describeBytes(bytes) {
  const text = printable(bytes);
  if (text === null)
    return `${bytes.length} bytes, hex ${toHex(bytes.subarray(0, 32))}${bytes.length > 32 ? '…' : ''}`;
  try {
    const json = JSON.parse(text);
    if (typeof json === 'object' && json !== null) return JSON.stringify(json, null, 2);
  } catch {
    // not JSON
  }
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

function keyAttributes(xml) {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const text = (name) => doc.getElementsByTagName(name)[0]?.textContent ?? null;
  const flags = [...(doc.getElementsByTagName('attributes')[0]?.children ?? [])]
    .filter((node) => node.textContent === 'true')
    .map((node) => node.tagName);
  const algorithm = [text('algorithm'), text('key_size'), text('curve_oid')].filter(Boolean).join(' ');
  const policy = doc.getElementsByTagName('policy').length > 0 ? '; SKA policy' : '';
  return { uuid: text('uuid'), summary: `${algorithm}; ${flags.join(', ') || 'no attribute set'}${policy}` };
}

/**
 * Every check of a level-5 task. Answers `rows` ([label, value, 'valid' | 'invalid' | undefined]) to
 * show, `problems` (empty when the approver may sign), and the bytes to sign.
 */
export async function reviewTask(task, chainPems) {
  const rows = [];
  const problems = [];
  const challenge = fromBase64(task.approvalToBeSigned);
  const rejection = new Uint8Array([...new TextEncoder().encode('REJECT:'), ...challenge]);
  let decoded;
  try {
    decoded = decodeChallenge(challenge);
  } catch (error) {
    problems.push(`the challenge cannot be decoded: ${error.message}`);
    return { rows: [['Challenge', 'INVALID', 'invalid']], problems, challenge, rejection };
  }
  const digestHex = toHex(decoded.payloadDigest);
  const expired = task.expiresAt !== null && Date.parse(task.expiresAt) <= Date.now();
  rows.push(
    ['Operation', decoded.operation],
    ['Key', `${displayLabel(decoded.keyLabel)} (uuid ${decoded.keyId}, version ${decoded.keyVersion})`],
    ['Request', decoded.requestId ?? '(none)'],
    ['Created', decoded.createdAt.toISOString()],
    [
      'Expires',
      task.expiresAt ? `${task.expiresAt}${expired ? ' (EXPIRED)' : ''}` : 'never',
      expired ? 'invalid' : undefined,
    ],
    ['Payload SHA-256', digestHex],
  );
  const shown = [
    ['operation', task.operation, decoded.operation],
    ['key name', task.keyName, decoded.keyLabel],
    ['request id', task.requestId, decoded.requestId],
    ['payload digest', toHex(fromBase64(task.payloadDigest)), digestHex],
    ['creation time', new Date(Date.parse(task.createdAt)).toISOString(), decoded.createdAt.toISOString()],
  ].filter(([, a, b]) => a !== b);
  for (const [what, a, b] of shown)
    problems.push(
      `the task shows ${what} "${escapeForDisplay(a)}" but the challenge says "${escapeForDisplay(b)}"`,
    );
  if (!equalBytes(fromBase64(task.rejectionToBeSigned), rejection)) {
    problems.push('rejectionToBeSigned is not "REJECT:" followed by the challenge');
  }

  if (typeof task.payload === 'string') {
    const payload = fromBase64(task.payload);
    const ok = equalBytes(await sha256(payload), decoded.payloadDigest);
    rows.push(
      ['Payload', describeBytes(payload)],
      ['Payload digest check', ok ? 'VALID' : 'INVALID', ok ? 'valid' : 'invalid'],
    );
    if (!ok) problems.push('the payload does not hash to the digest in the challenge');
  }
  await reviewParameters(task, decoded, rows, problems);
  rows.push(['Metadata', task.metaData ? describeBytes(fromBase64(task.metaData)) : '(none)']);
  if (task.metaData) {
    rows.push([
      'Metadata signature',
      task.metaDataSignature
        ? 'present, not checked here (tsb approver show --metadata-key checks it)'
        : 'none provided',
    ]);
  }

  let chain = null;
  try {
    chain = await checkChain(chainPems);
  } catch (error) {
    problems.push(`the certificate chain cannot be read: ${error.message}`);
  }
  const chainOk = chain?.valid === true;
  rows.push([
    'Certificate chain',
    `${chainOk ? 'VALID' : 'INVALID'}${chain ? ` (root SHA-256 ${chain.rootFingerprint})` : ''}`,
    chainOk ? 'valid' : 'invalid',
  ]);
  if (chain && !chainOk) problems.push('the timestamp and attestation certificates do not chain to the root');

  if (typeof task.keyAttributes === 'string') {
    const attributes = keyAttributes(task.keyAttributes);
    rows.push(['Key attributes', attributes.summary]);
    if (attributes.uuid !== decoded.keyId)
      problems.push('the key attributes are of another key than the challenge');
    let ok = false;
    if (chainOk && task.keyAttributesSignature) {
      const data = new TextEncoder().encode(task.keyAttributes);
      ok = await verifyEcdsa(chain.attestation.spki, fromBase64(task.keyAttributesSignature), data).catch(
        () => false,
      );
    }
    rows.push(['Key attributes signature', ok ? 'VALID' : 'INVALID', ok ? 'valid' : 'invalid']);
    if (!ok) problems.push('the key attribute statement does not verify with the attestation certificate');
  }

  let timestampOk = false;
  if (chainOk && decoded.timestampSignature) {
    const signature = timestampSignatureOf(decoded.timestampSignature);
    timestampOk = await verifyEcdsa(chain.timestamp.spki, signature, decoded.timestampBlock).catch(
      () => false,
    );
  }
  rows.push(['Timestamp signature', timestampOk ? 'VALID' : 'INVALID', timestampOk ? 'valid' : 'invalid']);
  if (!timestampOk) problems.push('the timestamp signature of the challenge does not verify');
  rows.push([
    'Challenge matches task',
    shown.length === 0 ? 'yes' : 'NO',
    shown.length === 0 ? 'valid' : 'invalid',
  ]);
  if (expired) problems.push(`the request expired at ${task.expiresAt}`);
  return { rows, problems, challenge, rejection };
}
