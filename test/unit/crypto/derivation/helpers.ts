import { parseDerivationPath } from '../../../../src/crypto/derivation/path.js';

/** A vector path (`m/0H/1`) as derivation steps. */
export const stepsOf = (path: string) => parseDerivationPath(path);
