/**
 * `npm run worker`: the SKA workflow worker on its own, without the HTTP API. Any number of workers and
 * API processes may share one PostgreSQL and one Redis.
 */
import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { createPrismaClient } from './db/prisma.js';
import { resolveMasterKey, SoftHsm } from './hsm/index.js';
import { Workflow } from './workflow/index.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel, base: { role: 'worker' } });
  const masterKey = resolveMasterKey(config.masterKey, config.dataDir);
  const prisma = createPrismaClient(config.databaseUrl);
  const hsm = new SoftHsm({
    prisma,
    masterKey: masterKey.key,
    keyCacheSize: config.keyCacheSize,
    approvalWindow: config.workflow.approvalWindow,
  });
  await hsm.listenForChanges(config.databaseUrl, (error) =>
    log.warn({ err: error }, 'key change feed interrupted; cached key data is not used until it reconnects'),
  );
  const workflow = new Workflow({ prisma, hsm, config, log });
  await workflow.startWorker();

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'worker shutting down after an error');
    else log.info({ signal }, 'worker shutting down');
    await workflow.close();
    await hsm.close();
    await prisma.$disconnect();
  });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('OpenTSB worker failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
