export {
  createTsbClient,
  FINAL_REQUEST_STATUSES,
  type RequestStatus,
  TsbApiError,
  type TsbClient,
  type TsbClientOptions,
  type TsbErrorBody,
  unwrap,
  waitForRequest,
} from './client.js';
export type { components, operations, paths } from './schema.js';
