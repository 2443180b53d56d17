// The node types' refs, declared apart from their fields so types can refer to each other.
// Each loads through the request's loaders; a field may return an id and the type loads it.
import DataLoader from 'dataloader';
import { builder } from '../src/builder.ts';
import type { Channel, Invitation, Message, Organization, Presence, User } from '../src/domain/types.ts';
import { AppError } from '../src/errors.ts';
import type { ListSize } from '../src/limits/cost.ts';

type Loaded<T> = (T | null | Error)[];

/** Turns records a loader could not find into errors, as Pothos' batch loads want. */
const orNotFound =
  (what: string) =>
  <T>(records: Loaded<T>): (T | Error)[] =>
    records.map((record) => record ?? AppError.notFound(what));

// Pothos' own loaders only batch; caching lives in the request's loaders, which a subscription
// renews per event (Pothos keeps its loaders for the life of the context).
const loaderOptions = { cache: false } satisfies DataLoader.Options<string, unknown>;

export const UserRef = builder.loadableNodeRef<User, string, string>('User', {
  id: { resolve: (user) => user.id },
  load: async (ids, ctx) => orNotFound('User')(await ctx.loaders.users.loadMany(ids)),
  loaderOptions,
});

export const OrganizationRef = builder.loadableNodeRef<Organization, string, string>('Organization', {
  id: { resolve: (org) => org.id },
  load: async (ids, ctx) => orNotFound('Organization')(await ctx.loaders.organizations.loadMany(ids)),
  loaderOptions,
});

export const ChannelRef = builder.loadableNodeRef<Channel, string, string>('Channel', {
  id: { resolve: (channel) => channel.id },
  load: async (ids, ctx) => orNotFound('Channel')(await ctx.loaders.channels.loadMany(ids)),
  loaderOptions,
});

export const MessageRef = builder.loadableNodeRef<Message, string, string>('Message', {
  id: { resolve: (message) => message.id },
  load: async (ids, ctx) => orNotFound('Message')(await ctx.loaders.messages.loadMany(ids)),
  loaderOptions,
});

export const InvitationRef = builder.loadableNodeRef<Invitation, string, string>('Invitation', {
  id: { resolve: (invitation) => invitation.id },
  load: async (ids, ctx) => orNotFound('Invitation')(await ctx.loaders.invitations.loadMany(ids)),
  loaderOptions,
});

export const PresenceRef = builder.objectRef<Presence>('Presence');

// Fields whose value depends on who asks: see src/delivery/per-viewer.ts.
export { PER_VIEWER, VIEWER_SPECIFIC, perViewer } from '../src/delivery/per-viewer.ts';

/**
 * Marks a list field, or a connection (its edges), with the most items it may hold, for the cost
 * limit (src/limits/cost.ts): a page or a list argument counts at most this many.
 */
export const listOfAtMost = (size: ListSize) => ({ listSize: size });

export const UserConnection = builder.connectionObject({ type: UserRef, name: 'UserConnection' }, { name: 'UserEdge' });
export const OrganizationConnection = builder.connectionObject(
  { type: OrganizationRef, name: 'OrganizationConnection' },
  { name: 'OrganizationEdge' },
);
export const ChannelConnection = builder.connectionObject({ type: ChannelRef, name: 'ChannelConnection' }, { name: 'ChannelEdge' });
export const MessageConnection = builder.connectionObject({ type: MessageRef, name: 'MessageConnection' }, { name: 'MessageEdge' });
