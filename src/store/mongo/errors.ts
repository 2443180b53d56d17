// Driver errors in the store's one vocabulary: duplicate keys become StoreError 'duplicate';
// unreachable servers and every bounded wait that ran out (wtimeoutMS, maxCommitTimeMS,
// maxTimeMS, server selection) become StoreError 'unavailable', which clients see as UNAVAILABLE
// (src/errors.ts); anything else is a bug or an unexpected server answer and passes through.
import {
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from 'mongodb';
import { StoreError } from '../store.ts';
import type { IndexSpec } from './database.ts';

/** The store's name for a unique key, by the fields of its index (indexes are also named after it). */
const KEYS_BY_FIELDS: Record<string, string> = {
  'orgId,name': 'channelName',
  'orgId,directKey': 'directKey',
};

interface DuplicateKeyError {
  code: 11000;
  message: string;
  keyPattern?: Record<string, unknown>;
}

/** True for a duplicate-key error (the driver's, or a stand-in's shaped like it). */
export function isDuplicateKey(error: unknown): error is DuplicateKeyError {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/** The fields of the unique index a duplicate-key error hit, else its name ('' when the server said neither). */
export function duplicateFields(error: DuplicateKeyError): string {
  if (error.keyPattern) return Object.keys(error.keyPattern).join(',');
  return /index: (\S+) dup key/.exec(error.message)?.[1] ?? '';
}

/** True when error is a duplicate key on this index (known by its fields, or by its name when the error has no keyPattern). */
export function isDuplicateOn(error: unknown, index: IndexSpec): boolean {
  if (!isDuplicateKey(error)) return false;
  const hit = duplicateFields(error);
  return hit === index.name || hit === Object.keys(index.key).join(',');
}

/**
 * True when the server could not be reached, the connection broke (the outcome of a write is then
 * unknown), or the server answered with an error it labels as worth retrying (a primary stepping
 * down) after the driver's own retry.
 */
export function isConnectionError(error: unknown): boolean {
  return (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError ||
    (error instanceof MongoError &&
      (error.hasErrorLabel('RetryableWriteError') || error.hasErrorLabel('TransientTransactionError')))
  );
}

/** Server codes of a wait that ran out: MaxTimeMSExpired, WriteConcernFailed (wtimeout), ExceededTimeLimit. */
const TIMED_OUT = new Set([50, 64, 262]);

/** True when a bounded wait ran out: the majority did not confirm in time, or a time limit passed. */
export function isTimeout(error: unknown): boolean {
  if (error instanceof MongoOperationTimeoutError || error instanceof MongoWriteConcernError) return true;
  return error instanceof MongoError && TIMED_OUT.has(error.code as number);
}

/** Rethrows error in the store's vocabulary. */
export function translate(error: unknown): never {
  if (error instanceof StoreError) throw error;
  if (isDuplicateKey(error)) {
    const fields = duplicateFields(error);
    throw new StoreError('duplicate', error.message, KEYS_BY_FIELDS[fields] ?? fields);
  }
  if (isConnectionError(error) || isTimeout(error)) throw new StoreError('unavailable', (error as Error).message);
  throw error;
}
