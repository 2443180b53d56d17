// Builds relay connection results from a page read with one extra item (which tells whether
// there is more), and the argument checks every connection shares.
import type { PageArgs } from '../src/domain/rules.ts';
import { pageSize } from '../src/domain/rules.ts';
import type { Limits } from '../src/config.ts';
import { AppError } from '../src/errors.ts';
import { idCursor } from '../src/domain/cursors.ts';

export interface ConnectionResult<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** A connection over nodes in display order. */
export function toConnection<T>(
  nodes: T[],
  cursorOf: (node: T) => string,
  more: { hasNextPage: boolean; hasPreviousPage: boolean },
): ConnectionResult<T> {
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: { ...more, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

/** The size of a forward-only page (first/after). */
export function forwardPage(args: PageArgs, limits: Limits, max = limits.pageMax): number {
  return pageSize(args.first, limits, 'first', max);
}

/** How many items to take from each end of the range the cursors leave (null: that end is not asked for). */
export interface PageWindow {
  first: number | null;
  last: number | null;
}

/**
 * first and last of a two-way connection, each checked the same way whatever else is given. With
 * neither, a page of the default size: onwards from after when after is given, else the newest.
 */
export function pageWindow(args: PageArgs, limits: Limits, max = limits.pageMax): PageWindow {
  const first = args.first == null ? null : pageSize(args.first, limits, 'first', max);
  const last = args.last == null ? null : pageSize(args.last, limits, 'last', max);
  if (first !== null || last !== null) return { first, last };
  return args.after != null ? { first: limits.pageDefault, last: null } : { first: null, last: limits.pageDefault };
}

/** A two-way connection's reads of the range between its cursors, and what it can tell outside it cheaply. */
export interface RangeSource<T> {
  /** Up to limit items of the range, oldest first from its start, or newest first from its end. */
  read(fromEnd: boolean, limit: number): Promise<T[]>;
  /** Whether items exist at or before the after cursor (the previous page); asked only when after is given. */
  existsBeforeAfter(): boolean;
  /** Whether items exist at or after the before cursor (the next page); asked only when before is given. */
  existsFromBefore(): boolean;
}

/**
 * A page as the Relay connection spec's algorithm defines it: after and before narrow the range,
 * then first takes from its start and last from the end of that; hasPreviousPage and hasNextPage
 * as its PageInfo section says, exact. One read of the range (two for first and last together).
 */
export async function rangePage<T>(
  window: PageWindow,
  args: PageArgs,
  source: RangeSource<T>,
): Promise<{ nodes: T[]; hasPreviousPage: boolean; hasNextPage: boolean }> {
  const { first, last } = window;
  let nodes: T[];
  let moreThanFirst = false;
  let moreThanLast = false;
  if (first !== null) {
    const page = await source.read(false, first + 1);
    moreThanFirst = page.length > first;
    nodes = page.slice(0, first);
    if (last !== null) {
      // The spec asks whether the whole range, not the first items of it, holds more than last.
      moreThanLast = nodes.length > last || (moreThanFirst && (first >= last || (await source.read(false, last + 1)).length > last));
      nodes = nodes.slice(Math.max(0, nodes.length - last));
    }
  } else {
    const newest = await source.read(true, last! + 1);
    moreThanLast = newest.length > last!;
    nodes = newest.slice(0, last!).reverse();
  }
  return {
    nodes,
    hasPreviousPage: last !== null ? moreThanLast : args.after != null && source.existsBeforeAfter(),
    hasNextPage: first !== null ? moreThanFirst : args.before != null && source.existsFromBefore(),
  };
}

/** A page of members (of an organization or a channel), ordered by user id, as users. */
export async function memberConnection(
  args: PageArgs,
  limits: Limits,
  read: (afterUserId: string | null, limit: number) => Promise<{ userId: string }[]>,
): Promise<ConnectionResult<string>> {
  const size = forwardPage(args, limits);
  const after = args.after == null ? null : idCursor.decode(args.after, 'after');
  const page = await read(after, size + 1);
  return toConnection(
    page.slice(0, size).map((member) => member.userId),
    (userId) => idCursor.encode(userId),
    { hasNextPage: page.length > size, hasPreviousPage: after !== null },
  );
}
