import { fileURLToPath } from 'node:url';

/**
 * The OpenTSB folder (where package.json is), found from this file (src/lib/ or, built, dist/lib/) rather
 * than from the current directory: relative settings such as TSB_DATA_DIR and the migrations folder mean the
 * same from wherever a process or `tsb` is started.
 */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
