/**
 * Whose work a worker pool task is: the partition of the request that asked for it (set once per API
 * request, after authentication), so the pools shared by every tenant serve their callers in turn
 * (worker-pool.ts `fair`) instead of first come, first served. Work outside a request, or of a caller
 * without a partition, belongs to the empty owner, which takes its turn like any partition.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const owners = new AsyncLocalStorage<string>();

/** Runs `fn` (and everything it continues asynchronously) as work of `owner`. */
export const asWorkOf = <T>(owner: string, fn: () => T): T => owners.run(owner, fn);

/** The owner of the work running now ('' outside `asWorkOf`). */
export const workOwner = (): string => owners.getStore() ?? '';
