// Start-up fills of the users' own lists (userChannels, userOrganizations) from the memberships,
// once, for a database written before the lists existed; the unsharded layout only (a sharded
// database starts with the lists, and walking every channel or organization there would go to
// every shard). Each page of members is listed in a unit of its own, so a member leaving the
// channel meanwhile (which takes the entry off the list) conflicts with the page's unit instead of
// being listed again after leaving. Lists are upserts: processes starting together may both fill.
import * as channelMembers from './channel-members.ts';
import * as channels from './channels.ts';
import type { Session } from './database.ts';
import type { MembershipCollections } from './memberships.ts';
import * as orgMembers from './org-members.ts';
import * as userChannels from './user-channels.ts';
import * as userOrganizations from './user-organizations.ts';

type Unit = <T>(fn: (session: Session) => Promise<T>) => Promise<T>;

/** Members listed per unit. */
const PAGE = 500;

/** Lists one page of a channel's members after afterUserId; the last user id listed, null past the last. */
async function listChannelPage(c: MembershipCollections, channelId: string, afterUserId: string, session: Session) {
  const position = await channels.findPosition(c.channels, channelId, session);
  if (position === null) return null;
  const page = await channelMembers.findByChannel(c.channelMembers, channelId, afterUserId, PAGE, session);
  for (const { userId, joinedAt } of page) {
    await userChannels.add(c.userChannels, { userId, orgId: position.orgId, channelId }, joinedAt, session);
  }
  return page.length === PAGE ? page.at(-1)!.userId : null;
}

/** Lists every membership stored before the lists existed, unless done before. */
export async function fillUserLists(c: MembershipCollections, unit: Unit): Promise<void> {
  if (!(await userChannels.isFilled(c.userChannels))) {
    for (let channelId = await channelMembers.findNextChannelId(c.channelMembers, ''); channelId !== null; ) {
      const current = channelId;
      for (let after: string | null = ''; after !== null; ) {
        const from: string = after;
        after = await unit((session) => listChannelPage(c, current, from, session));
      }
      channelId = await channelMembers.findNextChannelId(c.channelMembers, current);
    }
    await userChannels.markFilled(c.userChannels);
  }
  if (!(await userOrganizations.isFilled(c.userOrganizations))) {
    // Nobody leaves an organization: listing a member twice is a no-op, so no unit is needed.
    for (let orgId = await orgMembers.findNextOrgId(c.orgMembers, ''); orgId !== null; ) {
      for (let after: string | null = ''; after !== null; ) {
        const page = await orgMembers.findByOrg(c.orgMembers, orgId, after, PAGE);
        for (const { userId, joinedAt } of page) await userOrganizations.add(c.userOrganizations, userId, orgId, joinedAt, undefined);
        after = page.length === PAGE ? page.at(-1)!.userId : null;
      }
      orgId = await orgMembers.findNextOrgId(c.orgMembers, orgId);
    }
    await userOrganizations.markFilled(c.userOrganizations);
  }
}
