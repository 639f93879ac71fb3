import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceCaKeyBinding, rootCaKeyBinding, UnsealError, unseal } from '../../src/crypto/seal.js';
import { SoftHsm } from '../../src/hsm/soft-hsm.js';
import { createTestContext, type TestContext } from '../helpers/app.js';
import { openssl, withScratch } from '../helpers/openssl.js';

const run = promisify(execFile);
let t: TestContext;
const KM = ['keyManagement'] as const;
const KO = ['keyOperation'] as const;

beforeAll(async () => {
  t = await createTestContext();
});
afterAll(() => t.close());

async function createKey(partition: string, label: string, extra: Record<string, unknown> = {}) {
  const response = await t.call(partition, [...KM], {
    method: 'POST',
    url: '/v1/key',
    body: {
      label,
      algorithm: 'EC',
      curveOid: '1.2.840.10045.3.1.7',
      attributes: { decrypt: false, sign: true, unwrap: false },
      ...extra,
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

/** Runs openssl expecting it to fail; answers everything it printed. */
async function opensslFails(args: string[], cwd: string): Promise<string> {
  try {
    await run('openssl', args, { cwd, encoding: 'utf8' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout: string; stderr: string };
    return stdout + stderr;
  }
  throw new Error(`openssl ${args.join(' ')} succeeded`);
}

/** Writes the ZIP into dir and extracts it with the unzip CLI; answers the file names. */
async function unzip(dir: string, zip: Buffer): Promise<string[]> {
  await writeFile(path.join(dir, 'attestation.zip'), zip);
  await run('unzip', ['-q', 'attestation.zip', '-d', 'out'], { cwd: dir });
  return (await readdir(path.join(dir, 'out'))).sort();
}

describe('the certificate authority', () => {
  it('is created once per database, also when several processes race for it', async () => {
    const others = [0, 1, 2].map(
      () => new SoftHsm({ prisma: t.prisma, masterKey: t.masterKey, keyCacheSize: 10 }),
    );
    const chains = await Promise.all([t.hsm, ...others].map((hsm) => hsm.certificates.chain()));
    for (const chain of chains) {
      expect(chain.root).toEqual(chains[0]!.root);
      expect(chain.device).toEqual(chains[0]!.device);
    }
    expect(await t.prisma.certificateAuthority.count()).toBe(1);
    const row = await t.prisma.certificateAuthority.findFirstOrThrow();
    // the private keys are stored only sealed
    const root = new X509Certificate(chains[0]!.root);
    expect(root.subject).toContain('CN=OpenTSB Root CA');
    expect(Buffer.from(row.rootKeySealed).includes(Buffer.from('BEGIN'))).toBe(false);
    // sealed under the master key, bound to their role: the device key does not open as the root key
    const device = unseal(t.masterKey, row.deviceKeySealed, deviceCaKeyBinding(row.name));
    expect(createPublicKey(createPrivateKey({ key: device, format: 'der', type: 'pkcs8' }))).toBeDefined();
    expect(() => unseal(t.masterKey, row.deviceKeySealed, rootCaKeyBinding(row.name))).toThrow(UnsealError);
    expect(() => unseal(Buffer.alloc(32, 1), row.rootKeySealed, rootCaKeyBinding(row.name))).toThrow(
      UnsealError,
    );
    await Promise.all(others.map((hsm) => hsm.close()));
  });

  it('gives a partition one attestation and one timestamp certificate, also under a race', async () => {
    await t.partition('race');
    const partition = await t.hsm.partitions.requireByName('race');
    const results = await Promise.all([1, 2, 3, 4].map(() => t.hsm.certificates.forPartition(partition)));
    for (const result of results) {
      expect(result.attestation).toEqual(results[0]!.attestation);
      expect(result.timestamp).toEqual(results[0]!.timestamp);
    }
    const stored = await t.hsm.partitions.requireByName('race');
    expect(Buffer.from(stored.attestationCertificate!)).toEqual(results[0]!.attestation);
  });
});

describe('POST /v1/key/keyAttestation', () => {
  beforeAll(async () => {
    await t.partition('attest');
    await createKey('attest', 'qtsp-key');
    await createKey('attest', 'locked-key', { password: 'secret-pw' });
  });

  it('answers a ZIP that openssl verifies: statement signature, certificate chain, attested key', async () => {
    const response = await t.call('attest', [...KM], {
      method: 'POST',
      url: '/v1/key/keyAttestation',
      body: { label: 'qtsp-key' },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    expect(response.headers['content-disposition']).toBe('attachment; filename="qtsp-key-attestation.zip"');
    await withScratch(async (dir) => {
      const files = await unzip(dir, response.rawPayload);
      expect(files).toEqual([
        'PrimusHSM_Attestation.crt',
        'README.txt',
        'qtsp-key.pem',
        'qtsp-key.sig',
        'qtsp-key.xml',
        'root.crt',
      ]);
      const out = path.join(dir, 'out');
      const dgst = await openssl(
        ['dgst', '-sha256', '-verify', 'qtsp-key.pem', '-signature', 'qtsp-key.sig', 'qtsp-key.xml'],
        out,
      );
      expect(dgst).toContain('Verified OK');
      const verify = await openssl(
        [
          'verify',
          '-CAfile',
          'root.crt',
          '-untrusted',
          'PrimusHSM_Attestation.crt',
          'PrimusHSM_Attestation.crt',
        ],
        out,
      );
      expect(verify).toContain('PrimusHSM_Attestation.crt: OK');
      const certifiedKey = await openssl(
        ['x509', '-in', 'PrimusHSM_Attestation.crt', '-pubkey', '-noout'],
        out,
      );
      expect(certifiedKey).toBe(await readFile(path.join(out, 'qtsp-key.pem'), 'utf8'));

      const xml = await readFile(path.join(out, 'qtsp-key.xml'), 'utf8');
      expect(xml).toContain('<extractable>false</extractable>');
      expect(xml).toContain('<never_extractable>true</never_extractable>');
      // the XML is the statement of /v1/key/attributes, byte for byte, and its public key is the key's
      const attributes = (
        await t.call('attest', [...KM], {
          method: 'POST',
          url: '/v1/key/attributes',
          body: { label: 'qtsp-key' },
        })
      ).json();
      expect(xml.replace(/<attest_time>.*<\/attest_time>/, '')).toBe(
        attributes.xml.replace(/<attest_time>.*<\/attest_time>/, ''),
      );
      expect(xml).toContain(`<public_key>${attributes.json.publicKey}</public_key>`);

      const readme = await readFile(path.join(out, 'README.txt'), 'utf8');
      expect(readme).toContain(
        'openssl dgst -sha256 -verify qtsp-key.pem -signature qtsp-key.sig qtsp-key.xml',
      );
      expect(readme).toContain(
        'openssl verify -CAfile root.crt -untrusted PrimusHSM_Attestation.crt PrimusHSM_Attestation.crt',
      );

      // only public things: no private key anywhere in the archive
      expect(response.rawPayload.includes(Buffer.from('PRIVATE'))).toBe(false);

      // a tampered statement does not verify
      await writeFile(
        path.join(out, 'qtsp-key.xml'),
        xml.replace('<extractable>false</extractable>', '<extractable>true</extractable>'),
      );
      expect(
        await opensslFails(
          ['dgst', '-sha256', '-verify', 'qtsp-key.pem', '-signature', 'qtsp-key.sig', 'qtsp-key.xml'],
          out,
        ),
      ).toContain('Verification failure');
    });
  });

  it('needs the key password of a key that has one', async () => {
    const call = (body: object) =>
      t.call('attest', [...KM], { method: 'POST', url: '/v1/key/keyAttestation', body });
    const without = await call({ label: 'locked-key' });
    expect(without.statusCode).toBe(403);
    expect(without.json()).toMatchObject({ errorCode: 620 });
    const wrong = await call({ label: 'locked-key', password: 'nope' });
    expect(wrong.json()).toMatchObject({ errorCode: 620 });
    const right = await call({ label: 'locked-key', password: [...'secret-pw'] });
    expect(right.statusCode).toBe(200);
    expect(right.headers['content-type']).toBe('application/zip');
  });

  it('names the files after a label with unsafe characters safely', async () => {
    await createKey('attest', '.odd label\\x');
    const response = await t.call('attest', [...KM], {
      method: 'POST',
      url: '/v1/key/keyAttestation',
      body: { label: '.odd label\\x' },
    });
    expect(response.statusCode).toBe(200);
    await withScratch(async (dir) => {
      const files = await unzip(dir, response.rawPayload);
      expect(files).toContain('_.odd_label_x.xml');
      const out = path.join(dir, 'out');
      expect(
        await openssl(
          [
            'dgst',
            '-sha256',
            '-verify',
            '_.odd_label_x.pem',
            '-signature',
            '_.odd_label_x.sig',
            '_.odd_label_x.xml',
          ],
          out,
        ),
      ).toContain('Verified OK');
    });
  });

  it.each([
    [{ label: 'missing' }, 404, 650],
    [{}, 400, 600],
    [{ label: '' }, 400, 600],
    [{ label: 42 }, 400, 600],
    [{ label: 'qtsp-key', password: 5 }, 400, 600],
  ])('refuses %j with %i / %i', async (body, status, errorCode) => {
    const response = await t.call('attest', [...KM], { method: 'POST', url: '/v1/key/keyAttestation', body });
    expect(response.statusCode).toBe(status);
    expect(response.json()).toMatchObject({ errorCode });
  });

  it("does not attest another partition's key", async () => {
    await t.partition('other');
    const response = await t.call('other', [...KM], {
      method: 'POST',
      url: '/v1/key/keyAttestation',
      body: { label: 'qtsp-key' },
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ errorCode: 650 });
  });
});

describe('GET /v1/attestation/certificates', () => {
  it('publishes the chain; the timestamp certificate is fit for RFC 3161', async () => {
    await t.partition('publish');
    const response = await t.call('publish', ['service'], {
      method: 'GET',
      url: '/v1/attestation/certificates',
    });
    expect(response.statusCode, response.body).toBe(200);
    const chain = response.json() as Record<'root' | 'device' | 'attestation' | 'timestamp', string>;
    const partition = await t.hsm.partitions.requireByName('publish');
    const attestation = new X509Certificate(chain.attestation);
    const timestamp = new X509Certificate(chain.timestamp);
    expect(attestation.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      Buffer.from(partition.attestationPublicKey),
    );
    expect(timestamp.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      Buffer.from(partition.timestampPublicKey!),
    );
    expect(attestation.subject).toBe('O=OpenTSB\nOU=publish\nCN=attestation-key');
    expect(timestamp.keyUsage).toEqual(['1.3.6.1.5.5.7.3.8']);
    await withScratch(async (dir) => {
      for (const [name, pem] of Object.entries(chain)) await writeFile(path.join(dir, `${name}.pem`), pem);
      const verify = (leaf: string, ...extra: string[]) =>
        openssl(
          ['verify', '-x509_strict', ...extra, '-CAfile', 'root.pem', '-untrusted', 'device.pem', leaf],
          dir,
        );
      expect(await verify('attestation.pem')).toContain('OK');
      expect(await verify('timestamp.pem', '-purpose', 'timestampsign')).toContain('timestamp.pem: OK');
      const text = await openssl(['x509', '-in', 'timestamp.pem', '-noout', '-text'], dir);
      expect(text).toMatch(/X509v3 Extended Key Usage: critical\s+Time Stamping/);
    });
    // stable: the same certificates on every call
    const again = await t.call('publish', ['keyOperation'], {
      method: 'GET',
      url: '/v1/attestation/certificates',
    });
    expect(again.json()).toEqual(chain);
  });
});

describe('POST /v1/createRfcTimestamp', () => {
  const data = Buffer.from('the document to be time-stamped\n');
  let chain: Record<'root' | 'device' | 'attestation' | 'timestamp', string>;

  beforeAll(async () => {
    await t.partition('tsa');
    chain = (await t.call('tsa', [...KO], { method: 'GET', url: '/v1/attestation/certificates' })).json();
  });

  const stamp = (body: object) =>
    t.call('tsa', [...KO], { method: 'POST', url: '/v1/createRfcTimestamp', body });

  it('answers a response that openssl ts parses and verifies against the data', async () => {
    const response = await stamp({
      data: data.toString('base64'),
      hashAlgorithm: 'SHA-256',
      nonce: '1234567890123',
    });
    expect(response.statusCode, response.body).toBe(200);
    const { timeStampResponse, timeStampToken } = response.json();
    await withScratch(async (dir) => {
      await writeFile(path.join(dir, 'resp.der'), Buffer.from(timeStampResponse, 'base64'));
      await writeFile(path.join(dir, 'token.der'), Buffer.from(timeStampToken, 'base64'));
      await writeFile(path.join(dir, 'data'), data);
      await writeFile(path.join(dir, 'other'), Buffer.from('other data'));
      await writeFile(path.join(dir, 'root.pem'), chain.root);
      await writeFile(path.join(dir, 'chain.pem'), chain.timestamp + chain.device);
      const text = await openssl(['ts', '-reply', '-in', 'resp.der', '-text'], dir);
      expect(text).toContain('Status: Granted.');
      expect(text).toContain('Policy OID: 2.25.130642196695297450991091132124912252242');
      expect(text).toContain('Hash Algorithm: sha256');
      const digest = createHash('sha256').update(data).digest('hex');
      expect(text).toContain(`0000 - ${digest.slice(0, 2)} ${digest.slice(2, 4)} ${digest.slice(4, 6)}`);
      expect(text).toContain('Nonce: 0x011F71FB04CB'); // 1234567890123
      expect(text).toMatch(/Time stamp: \w{3} +\d+ \d\d:\d\d:\d\d(\.\d+)? \d{4} GMT/);
      const withChain = (...args: string[]) => [
        'ts',
        '-verify',
        ...args,
        '-CAfile',
        'root.pem',
        '-untrusted',
        'chain.pem',
      ];
      const verify = (...args: string[]) => openssl(withChain(...args), dir);
      expect(await verify('-in', 'resp.der', '-data', 'data')).toContain('Verification: OK');
      expect(await verify('-in', 'token.der', '-token_in', '-data', 'data')).toContain('Verification: OK');
      const otherDigest = createHash('sha256').update('other data').digest('hex');
      expect(await opensslFails(withChain('-in', 'resp.der', '-digest', otherDigest), dir)).toMatch(
        /Verification: FAILED[\s\S]*message imprint mismatch/,
      );
      expect(await opensslFails(withChain('-in', 'resp.der', '-data', 'other'), dir)).toMatch(
        /Verification: FAILED[\s\S]*message imprint mismatch/,
      );
      // without the chain there is nothing to verify with (certReq was false: the token names, not holds, its signer)
      expect(
        await opensslFails(['ts', '-verify', '-in', 'resp.der', '-data', 'data', '-CAfile', 'root.pem'], dir),
      ).toContain('Verification: FAILED');
    });
  });

  it.each(['SHA-256', 'SHA-384', 'SHA-512'] as const)(
    'stamps a %s messageImprint; with certReq the token carries its certificates',
    async (hashAlgorithm) => {
      const node = hashAlgorithm.replace('-', '').toLowerCase();
      const digest = createHash(node).update(data).digest();
      const response = await stamp({
        messageImprint: digest.toString('base64'),
        hashAlgorithm,
        certReq: true,
      });
      expect(response.statusCode, response.body).toBe(200);
      await withScratch(async (dir) => {
        await writeFile(path.join(dir, 'resp.der'), Buffer.from(response.json().timeStampResponse, 'base64'));
        await writeFile(path.join(dir, 'root.pem'), chain.root);
        const verify = await openssl(
          [
            'ts',
            '-verify',
            '-in',
            'resp.der',
            '-digest',
            digest.toString('hex'),
            `-${node}`,
            '-CAfile',
            'root.pem',
          ],
          dir,
        );
        expect(verify).toContain('Verification: OK');
        const text = await openssl(['ts', '-reply', '-in', 'resp.der', '-text'], dir);
        expect(text).toContain(`Hash Algorithm: ${node}`);
        expect(text).toContain('Nonce: unspecified');
      });
    },
  );

  it('uses a fresh serial number for every token', async () => {
    const serials = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const response = await stamp({ data: 'AA==', hashAlgorithm: 'sha256' });
      serials.add(response.json().timeStampToken);
    }
    expect(serials.size).toBe(3);
  });

  it.each([
    [{ hashAlgorithm: 'SHA-256' }, 400, 600],
    [{ data: 'AA==', messageImprint: 'AA==', hashAlgorithm: 'SHA-256' }, 400, 600],
    [{ data: 'AA==', hashAlgorithm: 'MD5' }, 400, 600],
    [{ data: 'AA==' }, 400, 600],
    [{ data: 'not base64!', hashAlgorithm: 'SHA-256' }, 400, 612],
    [{ messageImprint: 'AAAA', hashAlgorithm: 'SHA-256' }, 400, 612],
    [{ messageImprint: Buffer.alloc(32).toString('base64'), hashAlgorithm: 'SHA-512' }, 400, 612],
    [{ data: 'AA==', hashAlgorithm: 'SHA-256', nonce: '-1' }, 400, 600],
    [{ data: 'AA==', hashAlgorithm: 'SHA-256', nonce: '0x10' }, 400, 600],
    [{ data: 'AA==', hashAlgorithm: 'SHA-256', nonce: 12 }, 400, 600],
    [{ data: 'AA==', hashAlgorithm: 'SHA-256', certReq: 'yes' }, 400, 600],
  ])('refuses %j with %i / %i', async (body, status, errorCode) => {
    const response = await stamp(body);
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json()).toMatchObject({ errorCode });
  });
});
