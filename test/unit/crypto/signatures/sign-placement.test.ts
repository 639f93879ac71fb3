import { generateKeyPairSync, verify } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { nodeSignCheap } from '../../../../src/crypto/signatures/node-signing.js';
import { signOnCallingThread } from '../../../../src/crypto/signatures/sign-placement.js';
import { freshPeriod, keepBusy, placeCheapCrypto } from '../../../helpers/event-loop.js';

describe('signOnCallingThread', () => {
  it('says yes while the loop idles, no after a busy spell, and yes again once the loop idles', async () => {
    await freshPeriod();
    await sleep(60);
    expect(signOnCallingThread()).toBe(true);
    keepBusy(150);
    expect(signOnCallingThread()).toBe(false);
    // within one sample period the answer is kept
    expect(signOnCallingThread()).toBe(false);
    await sleep(200);
    expect(signOnCallingThread()).toBe(true);
  });

  it('says no while signing itself is the load, which the thread pool spreads over the cores', async () => {
    await freshPeriod();
    await sleep(60);
    expect(signOnCallingThread()).toBe(true);
    // 5,000 signatures in one idle period: far more than a tenth of it on the calling thread
    for (let i = 0; i < 4999; i++) signOnCallingThread();
    await sleep(60);
    expect(signOnCallingThread()).toBe(false);
    await sleep(60);
    expect(signOnCallingThread()).toBe(true);
  });
});

describe('nodeSignCheap', () => {
  it('makes signatures node verifies on the calling thread (idle) and in the thread pool (busy)', async () => {
    const ed = generateKeyPairSync('ed25519');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const data = Buffer.from('payload');
    for (const busy of [false, true]) {
      expect(await placeCheapCrypto(busy)).toBe(!busy);
      const edSignature = await nodeSignCheap(null, data, ed.privateKey);
      const ecSignature = await nodeSignCheap('sha256', data, ec.privateKey);
      expect(verify(null, data, ed.publicKey, edSignature)).toBe(true);
      expect(verify('sha256', data, ec.publicKey, ecSignature)).toBe(true);
    }
    await expect(nodeSignCheap('no-such-hash', data, ec.privateKey)).rejects.toThrow();
  });
});
