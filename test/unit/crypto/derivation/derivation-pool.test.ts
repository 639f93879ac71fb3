/** Derivation in the derivation pool's worker gives what it gives on the calling thread, refusals included. */
import { describe, expect, it } from 'vitest';
import { derivationPoolStats, deriveOffThread } from '../../../../src/crypto/derivation/derivation-pool.js';
import {
  type DerivationStep,
  deriveFromMaterial,
  generateDerivableKey,
} from '../../../../src/crypto/derivation/key-derivation.js';
import { TsbError } from '../../../../src/errors.js';
import { countEventLoopTurns } from '../../../helpers/event-loop-turns.js';

const CURVES = [
  { name: 'secp256k1', algorithm: 'EC', curveOid: '1.3.132.0.10' },
  { name: 'P-256', algorithm: 'EC', curveOid: '1.2.840.10045.3.1.7' },
  { name: 'Ed25519', algorithm: 'ED', curveOid: '1.3.101.112' },
] as const;

/** 32 levels, hardened (Ed25519 derives hardened children only) and, for EC, unhardened ones too */
const pathOf = (hardenedOnly: boolean): DerivationStep[] =>
  Array.from({ length: 32 }, (_, i) => ({ index: i * 7919, hardened: hardenedOnly || i % 2 === 0 }));

describe('derivation in a worker thread', () => {
  for (const curve of CURVES) {
    it(`${curve.name}: a 32-level path derives the same key as on the calling thread, while the event loop runs on`, async () => {
      const parent = generateDerivableKey(curve.algorithm, curve.curveOid);
      const secret = Buffer.from(parent.material.secret!);
      const path = pathOf(curve.algorithm === 'ED');
      const before = derivationPoolStats();
      const turns = countEventLoopTurns();
      const pooled = await deriveOffThread(parent.material, parent.chainCode, path);
      expect(turns.stop(), 'event-loop turns while the worker derived').toBeGreaterThan(0);
      expect(derivationPoolStats().worker - before.worker).toBe(1);
      // the caller's copy of the parent's secret is the caller's to wipe
      expect(parent.material.secret).toEqual(secret);

      const inline = deriveFromMaterial(parent.material, parent.chainCode, path);
      expect(pooled).toEqual(inline);
      for (const bytes of [
        pooled.material.secret,
        pooled.material.publicKey,
        pooled.extended.privateKey,
        pooled.extended.publicKey,
        pooled.chainCode,
      ]) {
        expect(Buffer.isBuffer(bytes)).toBe(true);
      }
      expect(pooled.extended.depth).toBe(32);
    });
  }

  it('a refusal comes back as the TsbError it is', async () => {
    const parent = generateDerivableKey('ED', '1.3.101.112');
    const error = await deriveOffThread(parent.material, parent.chainCode, [
      { index: 1, hardened: false },
    ]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TsbError);
    expect((error as TsbError).errorCode).toBe(634);
    const deep = await deriveOffThread(
      parent.material,
      parent.chainCode,
      Array.from({ length: 256 }, (_, index) => ({ index, hardened: true })),
    ).catch((caught: unknown) => caught);
    expect((deep as TsbError).errorCode).toBe(600);
  });
});
