import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { NO_AUTHENTICATION_WARNING } from './auth/no-authentication.js';
import { ConfigError, loadConfig } from './config.js';
import { LOG_OPTIONS } from './observability/log-redaction.js';
import { buildHsm } from './services.js';
import { openProcessDatabase } from './startup.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel, ...LOG_OPTIONS });
  const { prisma, masterKey } = await openProcessDatabase(config, log, true);
  const hsm = buildHsm(config, prisma, masterKey);
  const app = await buildApp({ config, prisma, hsm });
  await hsm.listenForChanges(config.databaseUrl, (error) =>
    app.log.warn(
      { err: error },
      'change feed interrupted; cached keys and credentials are not used until it reconnects',
    ),
  );
  if (config.authNonePartition !== null) {
    app.log.warn(NO_AUTHENTICATION_WARNING(config.authNonePartition));
    const name = config.authNonePartition;
    if (!(await hsm.partitions.findByName(name))) {
      // another process starting at the same time may create it first
      await hsm.partitions.create(name).then(
        () => app.log.warn({ partition: name }, 'created the partition of TSB_AUTH_NONE_PARTITION'),
        async (error: unknown) => {
          if (!(await hsm.partitions.findByName(name))) throw error;
        },
      );
    }
  }
  closeWithGrace({ delay: config.operations.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    // app.close() waits for every connection to end; a keep-alive connection whose request was still
    // running when closing began only goes idle afterwards, so keep closing idle connections until done
    const closeIdle = setInterval(() => app.server.closeIdleConnections(), 50);
    try {
      await app.close();
    } finally {
      clearInterval(closeIdle);
    }
    // only now: app.close() runs onClose hooks last-registered first, and the workflow worker closed by
    // one of them still uses the HSM and the database until its running jobs end
    await hsm.close();
    await prisma.$disconnect();
  });

  if (config.workflow.runWorker) await app.workflow.startWorker();
  await app.listen({ host: config.host, port: config.port });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('OpenTSB failed to start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
