// What a viewer sees of a channel that another viewer sees differently: the read state behind the
// badge, and a DIRECT channel's name (the other member's). Each is read for one viewer in a
// request, or for every subscriber of a message at once (src/delivery/per-viewer.ts).
import { type ReadState, readStatesOf } from '../loaders/read-state.ts';
import type { RequestContext } from '../src/context.ts';
import type { ViewerState } from '../src/delivery/per-viewer.ts';
import { membersOfDirectKey } from '../src/domain/ids.ts';
import type { Channel } from '../src/domain/types.ts';

export const channelReadState: ViewerState<Channel, ReadState, RequestContext> = {
  read: (channel, ctx) => ctx.loaders.readState.load({ channel, userId: ctx.viewer.id }),
  readMany: (channel, contexts) =>
    readStatesOf(
      contexts[0]!.deps.store,
      contexts.map((ctx) => ({ channel, userId: ctx.viewer.id })),
    ),
};

/** Who a DIRECT channel is with, for a viewer: the other member (or the viewer, talking to themself). */
const counterpartOf = (channel: Channel, viewerId: string): string =>
  membersOfDirectKey(channel.directKey!).find((id) => id !== viewerId) ?? viewerId;

const isGroup = (channel: Channel) => channel.kind === 'GROUP' || !channel.directKey;

/** The channel's name as the viewer sees it: a GROUP's own name, or the other member's name. */
export const channelName: ViewerState<Channel, string, RequestContext> = {
  async read(channel, ctx) {
    if (isGroup(channel)) return channel.name;
    return (await ctx.loaders.users.load(counterpartOf(channel, ctx.viewer.id)))?.name ?? 'unknown';
  },
  async readMany(channel, contexts) {
    if (isGroup(channel)) return contexts.map(() => channel.name);
    const users = await contexts[0]!.deps.store.findUsersByIds(membersOfDirectKey(channel.directKey!));
    const names = new Map(users.map((user) => [user.id, user.name]));
    return contexts.map((ctx) => names.get(counterpartOf(channel, ctx.viewer.id)) ?? 'unknown');
  },
};
