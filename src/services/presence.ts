// Presence as the viewer may see it: only people who share an organization with the viewer.
import type { RequestContext } from '../context.ts';
import { idOf } from '../domain/ids.ts';
import type { Presence } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { AsyncQueue, type LiveStream } from '../realtime/async-queue.ts';
import { type PresenceChange, topics } from '../realtime/events.ts';
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
export async function presenceChanges(ctx: RequestContext, userIds: readonly string[]): Promise<LiveStream<Presence>> {
  const ids = [...new Set(userIds)];
  const unsubscribes: (() => Promise<void>)[] = [];
  let closed = false;
  const queue = new AsyncQueue<Presence>(async () => {
    closed = true;
    stopCatchingUp();
    await Promise.all(unsubscribes.map((unsubscribe) => unsubscribe()));
  });
  const latest = new Map<string, { seq: number; status: Presence['status'] }>();
  /** Per user, how many changes the bus has brought: a read that began before one is older than it. */
  const heard = new Map<string, number>();
  const deliver = (change: PresenceChange & { seq?: number }) => {
    // Changes from several processes may arrive out of order (Redis presence numbers them): an
    // older one than the last delivered is stale, and a repeat of the last status is no change.
    const last = latest.get(change.userId);
    const seq = typeof change.seq === 'number' ? change.seq : (last?.seq ?? 0);
    if (last && (seq < last.seq || last.status === change.status)) return;
    latest.set(change.userId, { seq, status: change.status });
    queue.push(change); // the bus's own object: subscribers with the same document share its result
  };
  const onChange = (change: PresenceChange & { seq?: number }) => {
    heard.set(change.userId, (heard.get(change.userId) ?? 0) + 1);
    deliver(change);
  };
  // Changes published while the bus was away are lost: once presence is current again, say where
  // each user stands now (only what differs from the last change delivered goes out).
  const stopCatchingUp = ctx.deps.presence.onResync(() => void catchUp(ctx, ids, heard, deliver, () => closed));
  // Up to 500 topics: subscribed together, not one round trip after another.
  const subscribed = await Promise.allSettled(ids.map((userId) => ctx.deps.bus.subscribe(topics.presence(userId), onChange)));
  for (const result of subscribed) if (result.status === 'fulfilled') unsubscribes.push(result.value);
  const failed = subscribed.find((result) => result.status === 'rejected');
  if (failed) {
    await queue.return();
    throw failed.reason;
  }
  return queue;
}

const CATCH_UP_ATTEMPTS = 5;
const CATCH_UP_RETRY_MS = 500;

/**
 * Reads the presence of the users and delivers it, except for users whose change came in while it
 * was read (that change is newer). Tried again a few times while presence cannot be read.
 */
async function catchUp(
  ctx: RequestContext,
  ids: string[],
  heard: ReadonlyMap<string, number>,
  deliver: (presence: Presence) => void,
  closed: () => boolean,
): Promise<void> {
  for (let attempt = 1; !closed(); attempt++) {
    const before = new Map(ids.map((id) => [id, heard.get(id) ?? 0]));
    try {
      ctx.refreshLoaders();
      const now = await presenceOf(ctx, ids);
      if (closed()) return;
      for (const presence of now) if ((heard.get(presence.userId) ?? 0) === before.get(presence.userId)) deliver(presence);
      return;
    } catch (error) {
      if (attempt >= CATCH_UP_ATTEMPTS) {
        ctx.deps.logger.warn({ err: error }, 'could not read presence after the bus came back');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, CATCH_UP_RETRY_MS));
    }
  }
}
