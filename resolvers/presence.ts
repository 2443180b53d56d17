// Presence: who is online; Query.presence and Subscription.presenceChanged.
import { builder } from '../src/builder.ts';
import { toGlobalId } from '../src/domain/ids.ts';
import { presenceChanges, presenceOf, visiblePresenceIds } from '../src/services/presence.ts';
import { PresenceRef, UserRef, listOfAtMost } from './refs.ts';
import { liveSubscription, resolveEvent } from './subscriptions.ts';

const PresenceStatus = builder.enumType('PresenceStatus', { values: ['ONLINE', 'OFFLINE'] as const });

PresenceRef.implement({
  fields: (t) => ({
    userId: t.id({ resolve: (presence) => toGlobalId('User', presence.userId) }),
    user: t.field({ type: UserRef, resolve: (presence) => presence.userId }),
    status: t.field({ type: PresenceStatus, resolve: (presence) => presence.status }),
    lastActiveAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the user was last seen online (null if never).',
      resolve: (presence) => presence.lastActiveAt,
    }),
  }),
});

builder.queryFields((t) => ({
  presence: t.field({
    type: [PresenceRef],
    description: 'Presence of up to 500 users, in the order asked.',
    extensions: listOfAtMost((limits) => limits.presenceIdsMax),
    args: { userIds: t.arg.idList({ required: true }) },
    resolve: async (_root, args, ctx) => presenceOf(ctx, await visiblePresenceIds(ctx, args.userIds)),
  }),
}));

builder.subscriptionFields((t) => ({
  presenceChanged: t.field({
    type: PresenceRef,
    description: 'Presence changes of the given users (up to 500).',
    args: { userIds: t.arg.idList({ required: true }) },
    subscribe: async (_root, args, ctx) =>
      liveSubscription(ctx, await presenceChanges(ctx, await visiblePresenceIds(ctx, args.userIds))),
    resolve: (presence, _args, ctx) => resolveEvent(presence, ctx),
  }),
}));
