/**
 * `npm run bench:scale`: does OpenTSB stay fast as a partition grows?
 *
 * 1. Sign latency (POST /v1/synchronousSign through the whole app, one request at a time) with the same
 *    10 hot keys, in a partition of 10 keys and in one of SCALE_KEYS keys (default 100,000); then signing
 *    with keys drawn at random from all of them, where the bounded key cache (TSB_KEY_CACHE_SIZE) misses.
 *    The memory of the key cache is measured as heap growth per cached key (node --expose-gc).
 * 2. SCALE_PENDING (default 10,000) pending SKA requests for one approver: the latency of a task listing page
 *    (first, middle, last) and of a request listing, the sweep's run with all of them open and none due, the
 *    re-arming of their timers as a worker starts, and how long after their timeout all of them are EXPIRED.
 *
 * Results: bench/results/scale-latest.md and .json. Needs PostgreSQL and Redis as the tests do.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildApp } from '../src/app.js';
import { createJwtIssuer } from '../src/auth/jwt-issuer.js';
import { loadConfig } from '../src/config.js';
import { keyMaterialBinding, seal } from '../src/crypto/seal.js';
import { createPrismaClient } from '../src/db/prisma.js';
import type { Prisma } from '../src/generated/prisma/client.js';
import { SoftHsm } from '../src/hsm/soft-hsm.js';
import { createApprover, rule } from '../test/helpers/approvers.js';
import {
  benchDatabase,
  benchRun,
  type Distribution,
  distribution,
  gitRevision,
  RESULTS_DIR,
} from './bench-support.js';

const KEYS = Number(process.env.SCALE_KEYS ?? 100_000);
const PENDING = Number(process.env.SCALE_PENDING ?? 10_000);
const SIGNS = Number(process.env.SCALE_SIGNS ?? 4_000);
const CACHE_SIZE = Number(process.env.TSB_KEY_CACHE_SIZE ?? 10_000);
const EXPIRY_TIMEOUT_SECONDS = Number(process.env.SCALE_EXPIRY_TIMEOUT ?? 300);
const P256 = '1.2.840.10045.3.1.7';
const gc = (globalThis as { gc?: () => void }).gc;

const run = benchRun('scale-bench', 'dropping the bench database');

await run.run(async () => {
  const database = benchDatabase('BENCH_SCALE_DB', 'opentsb_bench_scale');
  await database.create(run);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'opentsb-scale-'));
  run.defer(() => rm(dataDir, { recursive: true, force: true }));
  const config = loadConfig({
    DATABASE_URL: database.url,
    TSB_DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    TSB_RATE_LIMIT_MAX: '0',
    TSB_MAX_OPEN_REQUESTS: '0',
    TSB_QUEUE_PREFIX: `opentsb-scale-${randomBytes(4).toString('hex')}`,
    TSB_WORKFLOW_SWEEP_MS: '1000',
    TSB_KEY_CACHE_SIZE: String(CACHE_SIZE),
  });
  const prisma = createPrismaClient(database.url);
  run.defer(() => prisma.$disconnect());
  const hsm = new SoftHsm({ prisma, masterKey: randomBytes(32), keyCacheSize: config.keyCacheSize });
  run.defer(() => hsm.close());
  const app = await buildApp({ config, prisma, hsm, logger: false });
  run.defer(() => app.close());
  await app.ready();
  const issuer = createJwtIssuer(config);
  const bearer = async (partition: string, roles: string[]) => ({
    authorization: `Bearer ${await issuer.issueToken({ partition, roles: roles as never, ttlSeconds: 7200 })}`,
  });

  const createKeys = async (partition: string, labels: string[]) => {
    const headers = await bearer(partition, ['keyManagement']);
    for (const label of labels) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/key',
        headers,
        payload: {
          label,
          algorithm: 'EC',
          curveOid: P256,
          attributes: { sign: true, decrypt: false, unwrap: false },
        },
      });
      if (response.statusCode !== 201) throw new Error(`creating ${label}: ${response.body}`);
    }
  };
  const hot = Array.from({ length: 10 }, (_, i) => `hot-${i}`);

  // --- 1. sign latency against partition size --------------------------------------------------
  const small = await hsm.partitions.create('small');
  const large = await hsm.partitions.create('large');
  await createKeys('small', hot);
  await createKeys('large', hot);
  run.log(
    `inserting ${KEYS - hot.length} more keys into partition "large" (real P-256 keys, sealed as the service seals them)`,
  );
  const template = await prisma.key.findFirstOrThrow({ where: { partitionId: large.id, label: 'hot-0' } });
  const { partitionKey } = hsm.keyring.open(large);
  const bulkLabels: string[] = [];
  const started = performance.now();
  for (let offset = hot.length; offset < KEYS; offset += 2_000) {
    const rows: Prisma.KeyCreateManyInput[] = [];
    for (let i = offset; i < Math.min(KEYS, offset + 2_000); i++) {
      const id = randomUUID();
      const pair = generateKeyPairSync('ec', {
        namedCurve: 'prime256v1',
        publicKeyEncoding: { type: 'spki', format: 'der' },
        privateKeyEncoding: { type: 'pkcs8', format: 'der' },
      });
      const label = `bulk-${i}`;
      bulkLabels.push(label);
      rows.push({
        id,
        partitionId: large.id,
        label,
        algorithm: template.algorithm,
        algorithmOid: template.algorithmOid,
        curveOid: template.curveOid,
        keySize: template.keySize,
        origin: 'generated',
        publicKey: new Uint8Array(pair.publicKey),
        materialSealed: new Uint8Array(seal(partitionKey, pair.privateKey, keyMaterialBinding(large.id, id))),
        attributes: template.attributes as Prisma.InputJsonValue,
      });
    }
    await prisma.key.createMany({ data: rows });
  }
  run.log(`inserted in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const counts = {
    small: await prisma.key.count({ where: { partitionId: small.id } }),
    large: await prisma.key.count({ where: { partitionId: large.id } }),
  };

  const signDistribution = async (
    partition: string,
    labels: readonly string[],
    n: number,
    pick: 'cycle' | 'random',
  ) => {
    const headers = await bearer(partition, ['keyOperation']);
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const label =
        pick === 'cycle' ? labels[i % labels.length]! : labels[Math.floor(Math.random() * labels.length)]!;
      const t0 = performance.now();
      const response = await app.inject({
        method: 'POST',
        url: '/v1/synchronousSign',
        headers,
        payload: {
          signRequest: { payload: 'AAECAw==', signKeyName: label, signatureAlgorithm: 'SHA256_WITH_ECDSA' },
        },
      });
      samples.push(performance.now() - t0);
      if (response.statusCode !== 200) throw new Error(`sign ${label}: ${response.body}`);
    }
    return samples;
  };
  await signDistribution('small', hot, 1_000, 'cycle');
  await signDistribution('large', hot, 1_000, 'cycle');
  // interleaved rounds, so that drift of the machine hits both sides alike
  const smallSamples: number[] = [];
  const largeSamples: number[] = [];
  for (let round = 0; round < 4; round++) {
    smallSamples.push(...(await signDistribution('small', hot, SIGNS / 4, 'cycle')));
    largeSamples.push(...(await signDistribution('large', hot, SIGNS / 4, 'cycle')));
  }
  const allLarge = [...hot, ...bulkLabels];
  const cacheBefore = hsm.keyCacheStatistics();
  const randomSamples = await signDistribution('large', allLarge, SIGNS, 'random');
  const randomCache = {
    hits: hsm.keyCacheStatistics().hits - cacheBefore.hits,
    misses: hsm.keyCacheStatistics().misses - cacheBefore.misses,
  };

  // memory of the key cache: heap growth while it fills with distinct keys
  let cacheMemory: { entries: number; bytesPerEntry: number; megabytesAtCapacity: number } | null = null;
  if (gc) {
    hsm.keys.emptyCache();
    gc();
    const before = process.memoryUsage().heapUsed;
    const fill = allLarge.slice(0, Math.min(CACHE_SIZE, allLarge.length));
    await signDistribution('large', fill, fill.length, 'cycle');
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    const entries = hsm.keyCacheStatistics().size;
    cacheMemory = {
      entries,
      bytesPerEntry: Math.round(grown / entries),
      megabytesAtCapacity: Math.round(((grown / entries) * CACHE_SIZE) / 1e5) / 10,
    };
  }
  const signs = {
    small: distribution(smallSamples),
    large: distribution(largeSamples),
    largeRandom: distribution(randomSamples),
  };
  const p50Ratio = signs.large.p50 / signs.small.p50;
  run.log(
    `sign p50: ${signs.small.p50} ms (10 keys) vs ${signs.large.p50} ms (${counts.large} keys): ×${p50Ratio.toFixed(3)}`,
  );

  // --- 2. pending requests: listing and expiry ---------------------------------------------------
  const approver = createApprover('P-256');
  await hsm.partitions.create('pending');
  const policy = {
    ruleUse: rule([{ quorum: 1, approvers: [approver] }], { timeout: EXPIRY_TIMEOUT_SECONDS }),
    ruleBlock: null,
    ruleUnblock: null,
    ruleModify: null,
    keyStatus: { blocked: false },
  };
  const management = await bearer('pending', ['keyManagement']);
  const created = await app.inject({
    method: 'POST',
    url: '/v1/key',
    headers: management,
    payload: {
      label: 'ska',
      algorithm: 'EC',
      curveOid: P256,
      attributes: { sign: true, decrypt: false, unwrap: false },
      policy,
    },
  });
  if (created.statusCode !== 201) throw new Error(created.body);
  const operation = await bearer('pending', ['keyOperation']);
  // the worker runs from the start, as in service: each request's expiry is timed from its creation
  await app.workflow.startWorker();
  const creationStarted = performance.now();
  const requestIds: string[] = [];
  for (let i = 0; i < PENDING; i++) {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/sign',
      headers: operation,
      payload: {
        signRequest: {
          payload: randomBytes(16).toString('base64'),
          signKeyName: 'ska',
          signatureAlgorithm: 'SHA256_WITH_ECDSA',
        },
      },
    });
    if (response.statusCode !== 201) throw new Error(response.body);
    requestIds.push(response.json().signRequestId);
  }
  const creationSeconds = (performance.now() - creationStarted) / 1000;
  run.log(`${PENDING} pending requests created in ${creationSeconds.toFixed(1)} s`);

  const approverHeaders = await bearer('pending', ['approver']);
  const pageSize = 100;
  const listPage = async (pageNumber: number) => {
    const timestamp = new Date(Date.now() - 1_000).toISOString();
    const t0 = performance.now();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/filteredSignApprovalTask',
      headers: approverHeaders,
      payload: {
        timestamp,
        timestampSignature: approver.sign(Buffer.from(timestamp)).toString('base64'),
        timestampDigestAlgorithm: approver.digest,
        approverPublicKey: approver.publicKey,
        detailLevel: 'level1',
        paging: { pageNumber, pageSize, sortOrder: 'CREATION_DATE_ASC' },
      },
    });
    const ms = performance.now() - t0;
    if (response.statusCode !== 200) throw new Error(response.body);
    if (response.json().tasks.length !== pageSize) throw new Error(`page ${pageNumber} is not full`);
    return ms;
  };
  const lastPage = Math.floor(PENDING / pageSize) - 1;
  const listing: Record<string, Distribution> = {};
  for (const [name, page] of [
    ['first page', 0],
    ['middle page', Math.floor(lastPage / 2)],
    ['last page', lastPage],
  ] as const) {
    const samples: number[] = [];
    for (let i = 0; i < 30; i++) samples.push(await listPage(page));
    listing[name] = distribution(samples);
  }
  const requestListing: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/filteredRequests',
      headers: operation,
      payload: { status: 'PENDING', paging: { pageNumber: 50, pageSize: 100 } },
    });
    requestListing.push(performance.now() - t0);
    if (response.statusCode !== 200) throw new Error(response.body);
  }
  listing['requests, page 50 of PENDING'] = distribution(requestListing);

  // the safety net that every worker runs every TSB_WORKFLOW_SWEEP_MS, with all these requests open and none due
  const sweeps: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t0 = performance.now();
    const moved = await app.workflow.engine.sweep();
    sweeps.push(performance.now() - t0);
    if (moved !== 0) throw new Error(`the sweep moved ${moved} requests that were not due`);
  }
  const sweep = distribution(sweeps);

  // what every worker does as it starts (Redis may have lost the timers): re-arm every open request
  const rearmStart = performance.now();
  const rearmed = await app.workflow.engine.rearm();
  const rearm = { requests: rearmed, seconds: Math.round((performance.now() - rearmStart) / 100) / 10 };

  run.log(
    `waiting for the timeout (${EXPIRY_TIMEOUT_SECONDS} s after creation) and the expiry of all ${PENDING}`,
  );
  const deadline = Date.now() + (EXPIRY_TIMEOUT_SECONDS + 600) * 1000;
  let open = PENDING;
  while (open > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    open = await prisma.skaRequest.count({ where: { id: { in: requestIds }, status: { not: 'EXPIRED' } } });
  }
  const lag = await prisma.$queryRaw<Array<{ p50: number; p99: number; max: number }>>`
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) AS p99,
           max(lag) AS max
    FROM (SELECT EXTRACT(EPOCH FROM ("updatedAt" - "expiresAt")) * 1000 AS lag
          FROM "SkaRequest" WHERE status = 'EXPIRED' AND "partitionId" = (SELECT id FROM "Partition" WHERE name = 'pending')) AS lags`;
  const expiry = {
    requests: PENDING,
    stillOpen: open,
    lagAfterTimeoutMs: {
      p50: Math.round(Number(lag[0]?.p50)),
      p99: Math.round(Number(lag[0]?.p99)),
      max: Math.round(Number(lag[0]?.max)),
    },
  };

  const result = {
    revision: gitRevision(),
    date: new Date().toISOString(),
    machine: '2 cores shared by the app, PostgreSQL and Redis; one request at a time through app.inject',
    keyCacheSize: CACHE_SIZE,
    keyCounts: counts,
    signs,
    largeOverSmallP50: Math.round(p50Ratio * 1000) / 1000,
    randomKeyCache: randomCache,
    cacheMemory,
    pending: {
      created: PENDING,
      creationSeconds: Math.round(creationSeconds * 10) / 10,
      listing,
      sweep,
      rearm,
      expiry,
    },
  };
  const row = (name: string, l: Distribution) =>
    `| ${name} | ${l.count} | ${l.p50} | ${l.p90} | ${l.p99} | ${l.mean} |`;
  const markdown = [
    `# Scale bench (${result.date}, ${result.revision})`,
    '',
    `${result.machine}. Key cache capacity ${CACHE_SIZE}.`,
    '',
    '## Sign latency (ms) against partition size',
    '',
    '| case | n | p50 | p90 | p99 | mean |',
    '|---|--:|--:|--:|--:|--:|',
    row(`10 hot keys, partition of ${counts.small} keys`, signs.small),
    row(`10 hot keys, partition of ${counts.large} keys`, signs.large),
    row(
      `random key of ${counts.large} (cache hits ${randomCache.hits}, misses ${randomCache.misses})`,
      signs.largeRandom,
    ),
    '',
    `p50 with ${counts.large} keys / p50 with ${counts.small} keys: **×${result.largeOverSmallP50}** (target ≤ ×1.10).`,
    cacheMemory
      ? `Key cache memory: ${cacheMemory.bytesPerEntry} bytes per cached P-256 key (${cacheMemory.entries} entries measured), ≈ ${cacheMemory.megabytesAtCapacity} MB at the capacity of ${CACHE_SIZE}.`
      : 'Key cache memory: not measured (run with node --expose-gc, as `npm run bench:scale` does).',
    '',
    `## ${PENDING} pending requests`,
    '',
    `Created through POST /v1/sign in ${result.pending.creationSeconds} s (one at a time).`,
    '',
    '| listing (page of 100) | n | p50 | p90 | p99 | mean |',
    '|---|--:|--:|--:|--:|--:|',
    ...Object.entries(listing).map(([name, l]) => row(name, l)),
    '',
    `The sweep (every worker, every TSB_WORKFLOW_SWEEP_MS) with ${PENDING} requests open and none due: p50 ${sweep.p50} ms, p99 ${sweep.p99} ms (n = ${sweep.count}).`,
    `Re-arming the timers of every open request, as every worker does as it starts: ${rearm.requests} requests in ${rearm.seconds} s.`,
    '',
    `Expiry (timeout ${EXPIRY_TIMEOUT_SECONDS} s): ${PENDING - expiry.stillOpen} of ${PENDING} EXPIRED; status change after the timeout p50 ${expiry.lagAfterTimeoutMs.p50} ms, p99 ${expiry.lagAfterTimeoutMs.p99} ms, max ${expiry.lagAfterTimeoutMs.max} ms.`,
    '',
  ].join('\n');
  await writeFile(path.join(RESULTS_DIR, 'scale-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(path.join(RESULTS_DIR, 'scale-latest.md'), markdown);
  process.stdout.write(markdown);
  if (expiry.stillOpen > 0) throw new Error(`${expiry.stillOpen} requests did not expire`);
});
