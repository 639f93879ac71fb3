import { Prisma } from '../generated/prisma/client.js';

/** Whether a Prisma write failed on a unique constraint (another writer took the value first). */
export const isUniqueViolation = (error: unknown): boolean =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
