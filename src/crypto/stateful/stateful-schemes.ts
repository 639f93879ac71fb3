/** The stateful signature schemes by wire name (key type and signature algorithm): HSS/LMS and XMSS. */
import { LMS_SCHEMES } from './lms.js';
import type { StatefulScheme } from './stateful-scheme.js';
import { XMSS_SCHEMES } from './xmss-schemes.js';

export const STATEFUL_SCHEMES: readonly StatefulScheme[] = [...LMS_SCHEMES, ...XMSS_SCHEMES];

const BY_NAME = new Map(STATEFUL_SCHEMES.map((scheme) => [scheme.name, scheme]));

/** The scheme a key type names, or undefined. */
export const statefulScheme = (name: string): StatefulScheme | undefined => BY_NAME.get(name);

export const isStatefulAlgorithm = (name: string): boolean => BY_NAME.has(name);
