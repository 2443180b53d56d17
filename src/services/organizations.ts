// Use cases of organizations: create one (with #general). Members join by invitation (invitations.ts).
import type { RequestContext } from '../context.ts';
import { newId } from '../domain/ids.ts';
import { validateOrganizationName } from '../domain/rules.ts';
import type { Channel, Organization } from '../domain/types.ts';
import { topics } from '../realtime/events.ts';

/** Creates an organization with the viewer as its first member, and its #general channel. */
export async function createOrganization(ctx: RequestContext, input: { name: string }): Promise<Organization> {
  const name = validateOrganizationName(input.name, 'name');
  await ctx.deps.rateLimits.organization.take(ctx.viewer.id);
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
