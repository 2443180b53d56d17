// Presence as the viewer may see it: only people who share an organization with the viewer.
import type { RequestContext } from '../context.ts';
import { idOf } from '../domain/ids.ts';
import type { Presence } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { AsyncQueue } from '../realtime/async-queue.ts';
import { topics } from '../realtime/events.ts';
import { requireVisibleUsers } from './access.ts';

/** Decodes the users asked for: at most the limit, each sharing an organization with the viewer. */
export async function visiblePresenceIds(ctx: RequestContext, globalIds: readonly string[]): Promise<string[]> {
  const max = ctx.deps.config.limits.presenceIdsMax;
  if (globalIds.length > max) throw AppError.badInput('userIds', `Ask for at most ${max} users at once`);
  const ids = globalIds.map((id) => idOf('User', id, 'userIds'));
  await requireVisibleUsers(ctx, ids, 'userIds');
  return ids;
}

/** The presence of each (visible) user, in the order asked, in one batch. */
export async function presenceOf(ctx: RequestContext, ids: readonly string[]): Promise<Presence[]> {
  const [online, users] = await Promise.all([ctx.deps.presence.onlineAmong(ids), ctx.loaders.users.loadMany(ids)]);
  const now = new Date();
  return ids.map((userId, i) => {
    const user = users[i];
    const lastActiveAt = user && !(user instanceof Error) ? user.lastActiveAt : null;
    return online.has(userId) ? { userId, status: 'ONLINE', lastActiveAt: now } : { userId, status: 'OFFLINE', lastActiveAt };
  });
}

/** Presence changes of exactly these (visible) users: the client's viewport, never a whole organization. */
export async function presenceChanges(ctx: RequestContext, userIds: readonly string[]): Promise<AsyncIterableIterator<Presence>> {
  const ids = [...new Set(userIds)];
  const unsubscribes: (() => Promise<void>)[] = [];
  const queue = new AsyncQueue<Presence>(async () => {
    await Promise.all(unsubscribes.map((unsubscribe) => unsubscribe()));
  });
  for (const userId of ids) {
    unsubscribes.push(await ctx.deps.bus.subscribe(topics.presence(userId), (change) => queue.push(change)));
  }
  return queue;
}
