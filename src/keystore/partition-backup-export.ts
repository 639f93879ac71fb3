/**
 * The export of a partition backup as a stream: keys are read a page at a time in one repeatable-read
 * transaction and written as they come, so a partition of any size neither holds the event loop for long nor
 * needs its whole document in memory.
 *
 * The MAC is HMAC-SHA256 over the canonical JSON of every member but `mac` (canonical-json.ts: members sorted,
 * no whitespace). The document is written in that very form, members in canonical order (createdAt, format,
 * keys, officers, partition, version) with `mac` last, so the bytes sent are the bytes the MAC covers, fed to
 * it as they go out; only the closing `}` of the MACed text is replaced by `,"mac":"…"}`.
 */
import { createHmac } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import { TsbError } from '../errors.js';
import { type Key, Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { PacedReadable } from '../lib/paced-readable.js';
import {
  BACKUP_FORMAT,
  BACKUP_VERSION,
  COLUMNS,
  encodeRow,
  openPartitionKey,
  sealPasswordHash,
} from './partition-backup-format.js';

/**
 * Keys read and written at a time. Reading a page's rows (Prisma) and encoding them each hold the event loop:
 * 250 keys held it 20-40 ms a turn here (100: 15-50 ms but a third slower in all; 500: up to 105 ms).
 */
export const BACKUP_PAGE_SIZE = 250;
/**
 * How long the export's transaction may stay open: it lasts as long as the reader takes (a slow client holds
 * one database connection and the snapshot that long); past it the transaction ends and the response aborts.
 */
const EXPORT_TRANSACTION_TIMEOUT_MS = 15 * 60_000;
/**
 * How long the export waits for a reader that takes nothing (once the connection's buffers are full) before it
 * ends: a client that stopped reading without closing gives its connection and snapshot back after this, not
 * after the whole time limit.
 */
export const EXPORT_STALL_MS = 60_000;

export interface BackupStream {
  /** the document's bytes (JSON); destroyed with the error when the export fails after its first byte */
  body: Readable;
  /** the number of rows written, once the whole document was; rejects when the export failed */
  written: Promise<{ keys: number; officers: number }>;
}

export interface BackupExportOptions {
  prisma: PrismaClient;
  masterKey: Buffer;
  macKey: Buffer;
  clock: Clock;
  /** keys per page (tests make it small) */
  pageSize?: number;
  /** EXPORT_STALL_MS unless given (tests make it short) */
  stallMs?: number;
}

/**
 * Starts the export of a partition's backup. Resolves once the partition was read and its key opened, before
 * the first byte: a missing partition or a partition key that does not open rejects here, so the caller can
 * still answer an error; any later failure destroys the stream, so no truncated document reads as complete.
 */
export async function streamPartitionBackup(
  options: BackupExportOptions,
  partitionId: string,
): Promise<BackupStream> {
  const body = new PacedReadable({ stallMs: options.stallMs ?? EXPORT_STALL_MS });
  let started!: () => void;
  const ready = new Promise<void>((resolve) => {
    started = resolve;
  });
  let isStarted = false;
  const written = options.prisma.$transaction(
    (tx) =>
      writeDocument(tx, options, partitionId, body, () => {
        isStarted = true;
        started();
      }),
    {
      isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead,
      timeout: EXPORT_TRANSACTION_TIMEOUT_MS,
    },
  );
  const failedEarly = written.then(
    () => undefined,
    (error: unknown) => {
      if (isStarted) {
        body.destroy(error instanceof Error ? error : new Error(String(error)));
        return undefined;
      }
      throw error;
    },
  );
  // whoever does not await `written` (the HTTP route) learns of a late failure from the stream
  written.catch(() => {});
  await Promise.race([ready, failedEarly]);
  return { body, written };
}

async function writeDocument(
  tx: Prisma.TransactionClient,
  { masterKey, macKey, clock, pageSize = BACKUP_PAGE_SIZE }: BackupExportOptions,
  partitionId: string,
  body: PacedReadable,
  started: () => void,
): Promise<{ keys: number; officers: number }> {
  const partition = await tx.partition.findUnique({ where: { id: partitionId } });
  if (!partition) throw new TsbError('NOT_FOUND', `partition ${partitionId} does not exist`);
  const partitionKey = openPartitionKey(masterKey, partition.id, partition.partitionKeySealed);
  try {
    const officers = await tx.securityOfficer.findMany({ where: { partitionId }, orderBy: { name: 'asc' } });
    started();
    const mac = createHmac('sha256', macKey);
    const write = async (text: string) => {
      const bytes = Buffer.from(text, 'utf8');
      mac.update(bytes);
      await body.write(bytes);
    };
    await write(
      `{"createdAt":${JSON.stringify(clock.now().toISOString())},"format":${JSON.stringify(BACKUP_FORMAT)},"keys":[`,
    );
    let keys = 0;
    let after: string | null = null;
    for (;;) {
      const page: Key[] = await tx.key.findMany({
        where: { partitionId, ...(after === null ? {} : { label: { gt: after } }) },
        orderBy: { label: 'asc' },
        take: pageSize,
      });
      if (page.length === 0) break;
      // the rows were parsed in this turn of the event loop: their encoding waits for a turn of its own
      await setImmediate();
      const rows = page.map((key) =>
        canonicalJson(encodeRow(sealPasswordHash(key, partitionKey), COLUMNS.key)),
      );
      await write(`${keys === 0 ? '' : ','}${rows.join(',')}`);
      keys += page.length;
      after = page.at(-1)!.label;
      if (page.length < pageSize) break;
    }
    const officerRows = officers.map((officer) => canonicalJson(encodeRow(officer, COLUMNS.officer)));
    await write(
      `],"officers":[${officerRows.join(',')}],"partition":${canonicalJson(encodeRow(partition, COLUMNS.partition))},"version":${BACKUP_VERSION}`,
    );
    mac.update('}');
    await body.write(Buffer.from(`,"mac":${JSON.stringify(mac.digest('base64'))}}`, 'utf8'));
    body.finish();
    return { keys, officers: officers.length };
  } finally {
    partitionKey.fill(0);
  }
}
