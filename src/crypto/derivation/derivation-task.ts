/** A derivation as a task for the derivation pool (derivation-pool.ts), run in its worker or inline. */

import { TsbError, type TsbErrorName } from '../../errors.js';
import { bufferView } from '../../lib/encoding.js';
import type { KeyMaterial } from '../mechanisms/key-material.js';
import { type DerivationStep, type DerivedKey, deriveFromMaterial } from './key-derivation.js';

export interface DerivationTask {
  material: KeyMaterial;
  chainCode: Uint8Array;
  path: DerivationStep[];
}

export type DerivationOutcome =
  | { derived: DerivedKey }
  | { refused: { kind: TsbErrorName; message: string } };

const optionalBuffer = (bytes: Uint8Array | null) => (bytes ? bufferView(bytes) : null);

/** What structured cloning made Uint8Arrays are Buffers again. */
function reviveMaterial(material: KeyMaterial): KeyMaterial {
  return {
    ...material,
    publicKey: optionalBuffer(material.publicKey),
    secret: optionalBuffer(material.secret),
    ...(material.certificate ? { certificate: bufferView(material.certificate) } : {}),
  };
}

export function reviveOutcome(outcome: DerivationOutcome): DerivationOutcome {
  if ('refused' in outcome) return outcome;
  const { material, extended, chainCode } = outcome.derived;
  return {
    derived: {
      ...outcome.derived,
      material: reviveMaterial(material),
      extended: {
        ...extended,
        privateKey: bufferView(extended.privateKey),
        publicKey: bufferView(extended.publicKey),
        chainCode: bufferView(extended.chainCode),
      },
      chainCode: bufferView(chainCode),
    },
  };
}

/** One derivation, where it runs; the task's copy of the parent's secret is wiped after it. */
export function runDerivationTask(task: DerivationTask): DerivationOutcome {
  const material = reviveMaterial(task.material);
  try {
    return { derived: deriveFromMaterial(material, bufferView(task.chainCode), task.path) };
  } catch (error) {
    if (error instanceof TsbError) return { refused: { kind: error.kind, message: error.message } };
    throw error;
  } finally {
    material.secret?.fill(0);
  }
}
