// Use cases of channels: create GROUP channels, open DIRECT ones, join, add and remove members.
import type { RequestContext } from '../context.ts';
import { directKeyOf, idOf, newId } from '../domain/ids.ts';
import { validateChannelName } from '../domain/rules.ts';
import type { Channel } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { topics } from '../realtime/events.ts';
import { StoreError } from '../store/store.ts';
import { requireChannelMember, requireOrgMember, requireVisibleChannel } from './access.ts';

function newChannel(orgId: string, kind: Channel['kind'], name: string, directKey: string | null): Channel {
  const now = new Date();
  return { id: newId('ch'), orgId, kind, name, directKey, lastSeq: 0, lastActiveAt: now, memberCount: 0, createdAt: now };
}

/** Tells each user's devices they joined (with the seq their history starts after) or left. */
async function announceMembership(
  ctx: RequestContext,
  channelId: string,
  userIds: Iterable<string>,
  change: { joined: true; fromSeq: number } | { joined: false },
) {
  await Promise.all(
    [...userIds].map((userId) => ctx.deps.bus.publish(topics.user(userId), { kind: 'membership', channelId, ...change })),
  );
}

/** Fails with NOT_FOUND naming the field unless every user is a member of the organization. */
async function requireOrgMembers(ctx: RequestContext, orgId: string, userIds: string[], field: string) {
  const members = await Promise.all(userIds.map((userId) => ctx.loaders.orgMember.load({ orgId, userId })));
  const outsider = userIds.find((_, i) => members[i] === null);
  if (outsider !== undefined) {
    throw new AppError('NOT_FOUND', `${field}: no such member of this organization`, { field });
  }
}

/** Creates a GROUP channel with the viewer and the given organization members in it. */
export async function createChannel(
  ctx: RequestContext,
  input: { organizationId: string; name: string; memberIds?: string[] | null },
): Promise<Channel> {
  const orgId = idOf('Organization', input.organizationId, 'organizationId');
  await requireOrgMember(ctx, orgId);
  const name = validateChannelName(input.name, 'name');
  const ids = input.memberIds ?? [];
  // More members are added one by one or join; counted before each id is decoded.
  const max = ctx.deps.config.limits.channelInitialMembersMax;
  if (ids.length > max) throw AppError.badInput('memberIds', `memberIds may name at most ${max} users`);
  const memberIds = [...new Set([ctx.viewer.id, ...ids.map((id) => idOf('User', id, 'memberIds'))])];
  await requireOrgMembers(ctx, orgId, memberIds, 'memberIds');
  await ctx.deps.rateLimits.channel.take(ctx.viewer.id);
  const channel = newChannel(orgId, 'GROUP', name, null);
  try {
    await ctx.deps.store.createChannel(channel, memberIds);
  } catch (error) {
    if (error instanceof StoreError && error.kind === 'duplicate') {
      throw AppError.conflict('name', `A channel named "${name}" exists in this organization already`);
    }
    throw error;
  }
  ctx.refreshLoaders();
  await announceMembership(ctx, channel.id, memberIds, { joined: true, fromSeq: 0 });
  return { ...channel, memberCount: memberIds.length };
}

/** The one DIRECT channel between the viewer and another member, created on first use. */
export async function openDirectChannel(ctx: RequestContext, input: { organizationId: string; userId: string }): Promise<Channel> {
  const orgId = idOf('Organization', input.organizationId, 'organizationId');
  const userId = idOf('User', input.userId, 'userId');
  await requireOrgMember(ctx, orgId);
  if (userId === ctx.viewer.id) throw AppError.badInput('userId', 'userId must be another member, not yourself');
  await requireOrgMembers(ctx, orgId, [userId], 'userId');
  const directKey = directKeyOf(ctx.viewer.id, userId);
  const existing = await ctx.deps.store.findDirectChannel(orgId, directKey);
  if (existing) return existing;
  // Opening an existing DIRECT channel is a read; only creating one counts as a new channel.
  await ctx.deps.rateLimits.channel.take(ctx.viewer.id);
  const channel = newChannel(orgId, 'DIRECT', '', directKey);
  try {
    await ctx.deps.store.createChannel(channel, [ctx.viewer.id, userId]);
  } catch (error) {
    // Both sides opened it at once: the unique key kept one; that one is the channel.
    const winner = error instanceof StoreError && error.kind === 'duplicate' && (await ctx.deps.store.findDirectChannel(orgId, directKey));
    if (winner) return winner;
    throw error;
  }
  ctx.refreshLoaders();
  await announceMembership(ctx, channel.id, [ctx.viewer.id, userId], { joined: true, fromSeq: 0 });
  return { ...channel, memberCount: 2 };
}

function requireGroup(channel: Channel, what: string) {
  if (channel.kind !== 'GROUP') throw AppError.badInput('channelId', `Direct channels cannot be ${what}`);
}

async function reloaded(ctx: RequestContext, channelId: string): Promise<Channel> {
  ctx.refreshLoaders();
  const channel = await ctx.loaders.channels.load(channelId);
  if (!channel) throw AppError.notFound('Channel', 'channelId');
  return channel;
}

/** The viewer joins a GROUP channel of one of their organizations. */
export async function joinChannel(ctx: RequestContext, input: { channelId: string }): Promise<Channel> {
  const channelId = idOf('Channel', input.channelId, 'channelId');
  const channel = await requireVisibleChannel(ctx, channelId);
  requireGroup(channel, 'joined');
  await ctx.deps.rateLimits.membership.take(ctx.viewer.id);
  const joined = await ctx.deps.store.addChannelMember(channelId, ctx.viewer.id, new Date());
  if (joined) await announceMembership(ctx, channelId, [ctx.viewer.id], { joined: true, fromSeq: joined.lastReadSeq });
  return reloaded(ctx, channelId);
}

/** A member of a GROUP channel adds another organization member to it. */
export async function addChannelMember(ctx: RequestContext, input: { channelId: string; userId: string }): Promise<Channel> {
  const channelId = idOf('Channel', input.channelId, 'channelId');
  const userId = idOf('User', input.userId, 'userId');
  const { channel } = await requireChannelMember(ctx, channelId);
  requireGroup(channel, 'changed');
  await requireOrgMembers(ctx, channel.orgId, [userId], 'userId');
  await ctx.deps.rateLimits.membership.take(ctx.viewer.id);
  const joined = await ctx.deps.store.addChannelMember(channelId, userId, new Date());
  if (joined) await announceMembership(ctx, channelId, [userId], { joined: true, fromSeq: joined.lastReadSeq });
  return reloaded(ctx, channelId);
}

/** A member removes someone (or leaves) a GROUP channel other than #general. */
export async function removeChannelMember(ctx: RequestContext, input: { channelId: string; userId: string }): Promise<Channel> {
  const channelId = idOf('Channel', input.channelId, 'channelId');
  const userId = idOf('User', input.userId, 'userId');
  const { channel } = await requireChannelMember(ctx, channelId);
  requireGroup(channel, 'changed');
  const org = await ctx.loaders.organizations.load(channel.orgId);
  if (org?.generalChannelId === channelId) throw AppError.forbidden('Nobody leaves #general while in the organization');
  await ctx.deps.rateLimits.membership.take(ctx.viewer.id);
  const left = await ctx.deps.store.removeChannelMember(channelId, userId);
  if (left) await announceMembership(ctx, channelId, [userId], { joined: false });
  return reloaded(ctx, channelId);
}
