/**
 * Stateful hash-based signatures (issue 15), part of `npm run bench`: per parameter set, the key generation
 * time (the whole top tree, in the LMS worker threads) and the signing rate at consecutive indices (one
 * signature in flight, as the key store hands out indices; the first signature of each subtree computes
 * it), and the verification rate. Pure scheme work: the index reservation in PostgreSQL is one UPDATE per
 * signature (or per block) on top, measured by the REST benchmark's commit costs.
 *
 * Environment: STATEFUL_BENCH_SCHEMES (comma-separated key type names; default tree heights 5, 10 and 15
 * and two levels; H20 takes minutes to generate), STATEFUL_BENCH_SECONDS (signing time per set, default 3).
 * Results: bench/results/stateful-latest.md.
 */
import { writeFileSync } from 'node:fs';
import { shutdownLmsPool } from '../src/crypto/stateful/lms-pool.js';
import { STATEFUL_SCHEMES } from '../src/crypto/stateful/stateful-schemes.js';

const DEFAULT = [
  'LMS',
  'LMS-SHA256_M32_H5_W8',
  'LMS-SHA256_M32_H10_W4',
  'LMS-SHA256_M32_H10_W8',
  'LMS-SHA256_M32_H15_W4',
  'LMS-SHA256_M32_H5_W8-H5_W8',
  'LMS-SHA256_M32_H10_W4-H10_W4',
  'XMSS-SHA256_10_256',
  'XMSS-SHAKE256_10_256',
];
const names = (process.env.STATEFUL_BENCH_SCHEMES?.split(',') ?? DEFAULT).map((name) => name.trim());
const seconds = Number(process.env.STATEFUL_BENCH_SECONDS ?? 3);

const rows: string[] = [];
for (const name of names) {
  const scheme = STATEFUL_SCHEMES.find((candidate) => candidate.name === name);
  if (!scheme) {
    console.log(`${name}: not registered, skipped`);
    continue;
  }
  const started = performance.now();
  const { privateKey, publicKey } = await scheme.generate();
  const keygenSeconds = (performance.now() - started) / 1000;
  const message = Buffer.from('stateful benchmark message');
  const signatures: Uint8Array[] = [];
  const signStart = performance.now();
  let index = 0;
  while (performance.now() - signStart < seconds * 1000 && index < scheme.maxSignatures) {
    signatures.push(await scheme.sign(privateKey, index++, message));
  }
  const signRate = index / ((performance.now() - signStart) / 1000);
  const verifyStart = performance.now();
  let verified = 0;
  while (performance.now() - verifyStart < 1000) {
    if (!scheme.verify(publicKey, message, signatures[verified % signatures.length]!))
      throw new Error(`${name}: bad signature`);
    verified++;
  }
  const verifyRate = verified / ((performance.now() - verifyStart) / 1000);
  const row = `| ${name} | ${scheme.maxSignatures.toLocaleString('en')} | ${scheme.signatureLength.toLocaleString('en')} | ${keygenSeconds.toFixed(2)} s | ${signRate.toFixed(0)} /s (${index} signed) | ${verifyRate.toFixed(0)} /s |`;
  console.log(row);
  rows.push(row);
}
await shutdownLmsPool();

const table = [
  `# Stateful hash-based signatures (${new Date().toISOString()})`,
  '',
  `Machine: ${(await import('node:os')).cpus()[0]?.model ?? 'unknown'}, ${(await import('node:os')).availableParallelism()} threads. Signing ${seconds} s per set at consecutive indices.`,
  '',
  '| key type | signatures | signature bytes | key generation | signing | verification |',
  '|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
writeFileSync(new URL('./results/stateful-latest.md', import.meta.url), table);
console.log('wrote bench/results/stateful-latest.md');
