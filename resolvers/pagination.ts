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

/** Which way a page of a two-way connection goes, and how many items it holds. */
export function pageDirection(args: PageArgs, limits: Limits): { backwards: boolean; size: number } {
  if (args.first != null && args.last != null) throw AppError.badInput('last', 'Ask for first or last, not both');
  if (args.after != null && args.before != null) throw AppError.badInput('before', 'Give after or before, not both');
  const backwards = args.last != null || args.before != null || args.first == null;
  if (backwards && args.after != null) throw AppError.badInput('after', 'after pages forwards: use it with first');
  if (!backwards && args.before != null) throw AppError.badInput('before', 'before pages backwards: use it with last');
  return { backwards, size: backwards ? pageSize(args.last, limits, 'last') : pageSize(args.first, limits, 'first') };
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
