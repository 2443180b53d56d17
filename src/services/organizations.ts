// Use cases of organizations: create one (with #general), add members.
import type { RequestContext } from '../context.ts';
import { idOf, newId } from '../domain/ids.ts';
import { validateOrganizationName } from '../domain/rules.ts';
import type { Channel, Organization } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { topics } from '../realtime/events.ts';
import { requireOrgMember } from './access.ts';

/** Creates an organization with the viewer as its first member, and its #general channel. */
export async function createOrganization(ctx: RequestContext, input: { name: string }): Promise<Organization> {
  const name = validateOrganizationName(input.name, 'name');
  const now = new Date();
  const general: Channel = {
    id: newId('ch'),
    orgId: '',
    kind: 'GROUP',
    name: 'general',
    directKey: null,
    lastSeq: 0,
    lastActiveAt: now,
    memberCount: 1,
    createdAt: now,
  };
  const org: Organization = { id: newId('org'), name, createdAt: now, memberCount: 1, generalChannelId: general.id };
  general.orgId = org.id;
  await ctx.deps.store.createOrganization(org, general, ctx.viewer.id);
  ctx.refreshLoaders();
  await ctx.deps.bus.publish(topics.user(ctx.viewer.id), { kind: 'membership', channelId: general.id, joined: true, fromSeq: 0 });
  return org;
}

/** Adds a user to the organization and its #general channel; adding a member again changes nothing. */
export async function addOrganizationMember(
  ctx: RequestContext,
  input: { organizationId: string; userId: string },
): Promise<Organization> {
  const orgId = idOf('Organization', input.organizationId, 'organizationId');
  const userId = idOf('User', input.userId, 'userId');
  const org = await requireOrgMember(ctx, orgId);
  const user = await ctx.loaders.users.load(userId);
  if (!user) throw new AppError('NOT_FOUND', 'No such user: they must sign in once before they can be added', { field: 'userId' });
  const added = await ctx.deps.store.addOrgMember(orgId, userId, new Date());
  ctx.refreshLoaders();
  if (added) {
    const [member] = await ctx.deps.store.findChannelMembers([{ channelId: org.generalChannelId, userId }]);
    await ctx.deps.bus.publish(topics.user(userId), {
      kind: 'membership',
      channelId: org.generalChannelId,
      joined: true,
      fromSeq: member?.lastReadSeq ?? 0,
    });
  }
  return (await ctx.loaders.organizations.load(orgId)) ?? org;
}
