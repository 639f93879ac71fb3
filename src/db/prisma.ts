import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

const poolOfClient = new WeakMap<PrismaClient, pg.Pool>();

/**
 * A Prisma client on PostgreSQL through `@prisma/adapter-pg`. It connects lazily, on the first query. Its
 * connection pool is also the one {@link sqlPoolOf} gives to the hot paths that send their own prepared
 * statements, so a process keeps one connection budget; `$disconnect` ends the pool.
 */
export function createPrismaClient(databaseUrl: string): PrismaClient {
  const pool = new pg.Pool({ connectionString: databaseUrl });
  // an idle connection that breaks (server restart, database dropped) leaves the pool by itself and the
  // next query connects anew; unheard, its error would take the process down
  pool.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  poolOfClient.set(prisma, pool);
  return prisma;
}

/** The `pg` pool under a client made by {@link createPrismaClient}. */
export function sqlPoolOf(prisma: PrismaClient): pg.Pool {
  const pool = poolOfClient.get(prisma);
  if (!pool) throw new Error('this Prisma client was not made by createPrismaClient');
  return pool;
}
