import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';

/**
 * HTTPS options when TLS is configured; with a client CA every client must present a certificate
 * that chains to it (the fingerprint then maps to a partition and roles, see src/auth).
 */
export function tlsServerOptions(
  config: Pick<Config, 'tls'>,
): { https: Record<string, unknown> } | Record<string, never> {
  if (!config.tls) return {};
  const { certFile, keyFile, clientCaFile } = config.tls;
  return {
    https: {
      cert: readFileSync(certFile),
      key: readFileSync(keyFile),
      ...(clientCaFile
        ? { ca: readFileSync(clientCaFile), requestCert: true, rejectUnauthorized: true }
        : {}),
      minVersion: 'TLSv1.2',
    },
  };
}
