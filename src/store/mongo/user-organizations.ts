// userOrganizations: each user's list of organizations, one document per (user, organization),
// written in the unit that stores the membership in orgMembers. orgMembers is keyed (and sharded)
// by organization; this list answers "the user's organizations" with a query that names the user:
// {userId, orgId} is unique and serves it, and on the hashed userId it goes to one shard.
import { type CollectionSpec, type Session, type StoreCollection, within } from './database.ts';

export const USER_ORGANIZATIONS = 'userOrganizations';

export interface UserOrganizationDoc {
  userId: string;
  orgId: string;
  joinedAt: Date;
}

export type UserOrganizations = StoreCollection<UserOrganizationDoc>;

export const userOrganizationsCollection: CollectionSpec = {
  name: USER_ORGANIZATIONS,
  indexes: [{ key: { userId: 1, orgId: 1 }, name: 'userId_1_orgId_1', unique: true }],
  shardKey: { userId: 'hashed' },
};

/** Lists the organization among the user's (a no-op when it is listed already). */
export async function add(list: UserOrganizations, userId: string, orgId: string, at: Date, session: Session): Promise<void> {
  await list.updateOne({ userId, orgId }, { $setOnInsert: { joinedAt: at } }, { upsert: true, ...within(session) });
}

/** The ids of the user's organizations after afterOrgId, in id order (covered by {userId, orgId}). */
export async function findOrgIdsOfUser(list: UserOrganizations, userId: string, afterOrgId: string | null, limit: number) {
  const docs = await list
    .find({ userId, orgId: { $gt: afterOrgId ?? '' } }, { sort: { orgId: 1 }, limit, projection: { _id: 0, orgId: 1 } })
    .toArray();
  return docs.map((d) => d.orgId);
}

/** Says the lists were filled from orgMembers (no user has the id ''). */
const FILLED = { userId: '', orgId: '' };

/** True once the lists were filled from orgMembers (or the database started with them). */
export async function isFilled(list: UserOrganizations): Promise<boolean> {
  return (await list.findOne(FILLED)) !== null;
}

/** Marks the lists as filled. */
export async function markFilled(list: UserOrganizations): Promise<void> {
  await list.updateOne(FILLED, { $setOnInsert: { joinedAt: new Date(0) } }, { upsert: true });
}
