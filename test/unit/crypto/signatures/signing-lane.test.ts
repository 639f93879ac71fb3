import { constants, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BATCHES_PER_TURN,
  MIN_BATCH_LIMIT,
  shutdownSigningLane,
  signInLane,
  signingLaneStats,
  verifyInLane,
} from '../../../../src/crypto/signatures/signing-lane.js';

const ed25519 = generateKeyPairSync('ed25519');
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });

afterAll(() => shutdownSigningLane());

/**
 * Resolves once the end of the last turn that asked the lane for work has run (it was queued before this), so the
 * batch limit follows that turn: a test resumed in the check phase would otherwise ask before it runs.
 */
const afterEndOfTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('the signing lane', () => {
  it('signs what one turn asks for in a worker thread; every signature verifies with node:crypto', async () => {
    // the worker is up, and this turn of one leaves the batch limit at its least (its end ran before the batch left)
    await signInLane(null, randomBytes(8), ed25519.privateKey);
    const before = signingLaneStats();
    const asked = Array.from({ length: 30 }, (_, i) => ({
      data: randomBytes(16 + i),
      pair: [ed25519, p256, secp256k1][i % 3]!,
      hash: i % 3 === 0 ? null : 'sha256',
    }));
    const signatures = await Promise.all(
      asked.map(({ data, pair, hash }) => signInLane(hash, data, pair.privateKey)),
    );
    const after = signingLaneStats();
    expect(after.worker - before.worker).toBe(Math.ceil(30 / MIN_BATCH_LIMIT));
    expect(after.inline).toBe(before.inline);
    for (const [i, { data, pair, hash }] of asked.entries()) {
      expect(Buffer.isBuffer(signatures[i])).toBe(true);
      expect(verify(hash, data, pair.publicKey, signatures[i]!)).toBe(true);
      expect(verify(hash, Buffer.concat([data, Buffer.of(0)]), pair.publicKey, signatures[i]!)).toBe(false);
    }
  });

  it('sends a turn in batches of at least MIN_BATCH_LIMIT, about BATCHES_PER_TURN of them as large as the last turn was', async () => {
    const data = randomBytes(8);
    const turn = async (size: number) => {
      await afterEndOfTurn();
      const before = signingLaneStats().worker;
      const signatures = await Promise.all(
        Array.from({ length: size }, () => signInLane(null, data, ed25519.privateKey)),
      );
      for (const signature of signatures) expect(verify(null, data, ed25519.publicKey, signature)).toBe(true);
      return signingLaneStats().worker - before;
    };
    const large = MIN_BATCH_LIMIT * BATCHES_PER_TURN * 2;
    expect(await turn(1)).toBe(1);
    // after a small turn: batches of MIN_BATCH_LIMIT
    expect(await turn(large)).toBe(large / MIN_BATCH_LIMIT);
    // after a large one: BATCHES_PER_TURN batches of a turn that size
    expect(await turn(large)).toBe(BATCHES_PER_TURN);
    expect(await turn(MIN_BATCH_LIMIT - 1)).toBe(1);
    // the limit follows the turn before, which was small again
    expect(await turn(large)).toBe(large / MIN_BATCH_LIMIT);
  });

  it('signatures asked for in different turns go in different batches', async () => {
    const before = signingLaneStats().worker;
    await signInLane(null, randomBytes(8), ed25519.privateKey);
    await signInLane('sha256', randomBytes(8), p256.privateKey);
    expect(signingLaneStats().worker - before).toBe(2);
  });

  it('a signature node:crypto refuses rejects alone; the rest of its batch is signed', async () => {
    const data = randomBytes(32);
    const [good, refused, alsoGood] = await Promise.allSettled([
      signInLane('sha256', data, p256.privateKey),
      signInLane('no-such-digest', data, p256.privateKey),
      signInLane(null, data, ed25519.privateKey),
    ]);
    expect(refused).toMatchObject({ status: 'rejected' });
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(Error);
    expect(good.status === 'fulfilled' && verify('sha256', data, p256.publicKey, good.value)).toBe(true);
    expect(alsoGood.status === 'fulfilled' && verify(null, data, ed25519.publicKey, alsoGood.value)).toBe(
      true,
    );
  });

  it('verifies in the same batches: true for a valid signature, false for a wrong or malformed one', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const data = randomBytes(40);
    const other = Buffer.concat([data, Buffer.of(1)]);
    const edSignature = sign(null, data, ed25519.privateKey);
    const p1363 = sign('sha256', data, { key: p256.privateKey, dsaEncoding: 'ieee-p1363' });
    const pkcs1 = sign('sha256', data, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PADDING });
    const rsaKey = { key: rsa.publicKey, padding: constants.RSA_PKCS1_PADDING };
    const p1363Key = { key: p256.publicKey, dsaEncoding: 'ieee-p1363' as const };
    await signInLane(null, data, ed25519.privateKey); // a turn of one before: batches of MIN_BATCH_LIMIT
    const before = signingLaneStats().worker;
    const verdicts = await Promise.all([
      verifyInLane(null, data, ed25519.publicKey, edSignature),
      verifyInLane(null, other, ed25519.publicKey, edSignature),
      verifyInLane('sha256', data, p1363Key, p1363),
      verifyInLane('sha256', data, p256.publicKey, p1363), // P1363 bytes read as DER
      verifyInLane('sha256', data, rsaKey, pkcs1),
      verifyInLane('sha256', other, rsaKey, pkcs1),
      verifyInLane('no-such-digest', data, rsaKey, pkcs1),
      signInLane(null, data, ed25519.privateKey).then((s) => verify(null, data, ed25519.publicKey, s)),
    ]);
    expect(verdicts).toEqual([true, false, true, false, true, false, false, true]);
    expect(signingLaneStats().worker - before).toBe(Math.ceil(8 / MIN_BATCH_LIMIT));
  });

  it('starts again after a shutdown', async () => {
    await shutdownSigningLane();
    const data = randomBytes(32);
    const signature = await signInLane(null, data, ed25519.privateKey);
    expect(verify(null, data, ed25519.publicKey, signature)).toBe(true);
    expect(signingLaneStats().workers).toBe(1);
  });
});
