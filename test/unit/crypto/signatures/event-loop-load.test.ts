import { generateKeyPairSync, verify } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { eventLoopHasSpareTime } from '../../../../src/crypto/signatures/event-loop-load.js';
import { nodeSignCheap } from '../../../../src/crypto/signatures/node-signing.js';

function keepBusy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('eventLoopHasSpareTime', () => {
  it('says yes after an idle spell, no after a busy one, and yes again once the loop idles', async () => {
    await sleep(80);
    eventLoopHasSpareTime();
    await sleep(80);
    expect(eventLoopHasSpareTime()).toBe(true);
    keepBusy(150);
    expect(eventLoopHasSpareTime()).toBe(false);
    // within one sample period the answer is kept
    expect(eventLoopHasSpareTime()).toBe(false);
    await sleep(200);
    expect(eventLoopHasSpareTime()).toBe(true);
  });
});

describe('nodeSignCheap', () => {
  it('makes signatures node verifies whether the loop is idle (calling thread) or busy (thread pool)', async () => {
    const ed = generateKeyPairSync('ed25519');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const data = Buffer.from('payload');
    for (const busy of [false, true]) {
      await sleep(80);
      eventLoopHasSpareTime();
      if (busy) keepBusy(100);
      else await sleep(80);
      expect(eventLoopHasSpareTime()).toBe(!busy);
      const edSignature = await nodeSignCheap(null, data, ed.privateKey);
      const ecSignature = await nodeSignCheap('sha256', data, ec.privateKey);
      expect(verify(null, data, ed.publicKey, edSignature)).toBe(true);
      expect(verify('sha256', data, ec.publicKey, ecSignature)).toBe(true);
    }
    await expect(nodeSignCheap('no-such-hash', data, ec.privateKey)).rejects.toThrow();
  });
});
