// Use cases of organizations: create one (with #general). Members join by invitation (invitations.ts).
import type { RequestContext } from '../context.ts';
import { newOrganization } from '../domain/organizations.ts';
import { validateOrganizationName } from '../domain/rules.ts';
import type { Organization } from '../domain/types.ts';
import { topics } from '../realtime/events.ts';

/** Creates an organization with the viewer as its first member, and its #general channel. */
export async function createOrganization(ctx: RequestContext, input: { name: string }): Promise<Organization> {
  const name = validateOrganizationName(input.name, 'name');
  await ctx.deps.rateLimits.organization.take(ctx.viewer.id);
  const { org, general } = newOrganization(name, new Date());
  await ctx.deps.store.createOrganization(org, general, ctx.viewer.id);
  ctx.refreshLoaders();
  await ctx.deps.bus.publish(topics.user(ctx.viewer.id), { kind: 'membership', channelId: general.id, joined: true, fromSeq: 0 });
  return org;
}
