/** Statuses of an SKA request (reference §2.4). PENDING and APPROVED are open; the rest are terminal. */
export const REQUEST_STATUSES = [
  'PENDING',
  'APPROVED',
  'EXECUTED',
  'FAILED',
  'EXPIRED',
  'REJECTED',
  'CANCELLED',
] as const;

export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const OPEN_STATUSES: readonly RequestStatus[] = ['PENDING', 'APPROVED'];
export const ENDED_STATUSES: readonly RequestStatus[] = REQUEST_STATUSES.filter(
  (status) => !OPEN_STATUSES.includes(status),
);

export function isOpen(status: string): boolean {
  return status === 'PENDING' || status === 'APPROVED';
}
