import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createPrismaClient } from '../db/prisma.js';
import { buildHsm } from '../services.js';

/**
 * The OpenAPI document exactly as the service publishes it at /docs/json, rendered without a
 * database (Prisma connects lazily and no request is made) and with a throw-away data folder.
 */
export async function renderOpenApiDocument(): Promise<string> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'opentsb-openapi-'));
  const config = loadConfig({ TSB_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const prisma = createPrismaClient(config.databaseUrl);
  const hsm = buildHsm(config, prisma, Buffer.alloc(32));
  const app = await buildApp({ config, prisma, hsm, logger: false });
  try {
    await app.ready();
    return `${JSON.stringify(app.swagger(), null, 2)}\n`;
  } finally {
    await app.close();
    await prisma.$disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
