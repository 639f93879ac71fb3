/**
 * `npm run worker`: the SKA workflow worker on its own, without the HTTP API. Any number of workers and
 * API processes may share one PostgreSQL and one Redis.
 */
import closeWithGrace from 'close-with-grace';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { LOG_OPTIONS } from './observability/log-redaction.js';
import { METRICS_CLOSED_MESSAGE } from './observability/metrics-token.js';
import { checkReadiness } from './observability/readiness.js';
import { closeWorkerHttp, startWorkerHttp } from './observability/worker-http.js';
import { buildHsm, buildWorkerServices } from './services.js';
import { openProcessDatabase } from './startup.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.logLevel, base: { role: 'worker' }, ...LOG_OPTIONS });
  const { prisma, masterKey } = await openProcessDatabase(config, log, false);
  const hsm = buildHsm(config, prisma, masterKey);
  await hsm.listenForChanges(config.databaseUrl, (error) =>
    log.warn({ err: error }, 'key change feed interrupted; cached key data is not used until it reconnects'),
  );
  const { workflow, metrics } = buildWorkerServices({ config, prisma, hsm, log });
  await workflow.startWorker();
  const { workerHttpPort, shutdownGraceMs } = config.operations;
  const http =
    workerHttpPort === null
      ? null
      : await startWorkerHttp({
          host: config.host,
          port: workerHttpPort,
          metrics,
          metricsAccess: config.operations,
          readiness: () => checkReadiness({ prisma, hsm, queue: workflow.queue, requireWorker: true }),
        });
  if (http) log.info({ port: workerHttpPort }, 'worker serves /healthz, /readyz and /metrics');
  if (http && config.operations.metricsToken === null && !config.operations.metricsOpen)
    log.warn(METRICS_CLOSED_MESSAGE);

  closeWithGrace({ delay: shutdownGraceMs }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'worker shutting down after an error');
    else log.info({ signal }, 'worker shutting down');
    // BullMQ's close waits for the jobs this worker is running; only then go the database and Redis
    await workflow.close();
    log.info('worker finished its running jobs');
    if (http) await closeWorkerHttp(http);
    metrics.close();
    await hsm.close();
    await prisma.$disconnect();
  });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('OpenTSB worker failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
