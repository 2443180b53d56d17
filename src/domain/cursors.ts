// Opaque keyset cursors: clients pass them back, never build them.
import { AppError } from '../errors.ts';

function encode(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

function decode(cursor: string, field: string, shape: ('string' | 'number')[]): (string | number)[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  const valid =
    Array.isArray(parts) &&
    parts.length === shape.length &&
    parts.every((part, i) => typeof part === shape[i] && (typeof part !== 'number' || Number.isSafeInteger(part)));
  if (!valid) throw AppError.badInput(field, `${field} is not a cursor this list gave out`);
  return parts as (string | number)[];
}

/** A message's place in its channel. */
export const seqCursor = {
  encode: (seq: number) => encode(['m', seq]),
  decode: (cursor: string, field: string): number => {
    const [tag, seq] = decode(cursor, field, ['string', 'number']);
    if (tag !== 'm' || (seq as number) < 0) throw AppError.badInput(field, `${field} is not a message cursor`);
    return seq as number;
  },
};

/** A channel's place in a list ordered by last activity, newest first (ties by id). */
export const activityCursor = {
  encode: (lastActiveAt: Date, id: string) => encode(['a', lastActiveAt.getTime(), id]),
  decode: (cursor: string, field: string): { lastActiveAt: Date; id: string } => {
    const [tag, time, id] = decode(cursor, field, ['string', 'number', 'string']);
    if (tag !== 'a') throw AppError.badInput(field, `${field} is not a channel cursor`);
    return { lastActiveAt: new Date(time as number), id: id as string };
  },
};

/** A place in a list ordered by id (members, organizations). */
export const idCursor = {
  encode: (id: string) => encode(['i', id]),
  decode: (cursor: string, field: string): string => {
    const [tag, id] = decode(cursor, field, ['string', 'string']);
    if (tag !== 'i') throw AppError.badInput(field, `${field} is not a cursor of this list`);
    return id as string;
  },
};
