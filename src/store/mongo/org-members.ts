// orgMembers: one document per (organization, user). {orgId, userId} is unique, decides who joins
// first and serves every query here (all name orgId); sharded on the hashed orgId. A user's
// organizations are read from the user's own list (user-organizations.ts), not from here.
import type { OrgMember } from '../../domain/types.ts';
import type { OrgMemberKey } from '../store.ts';
import { type CollectionSpec, type Session, type StoreCollection, within } from './database.ts';

export const ORG_MEMBERS = 'orgMembers';

/** Stored as the domain record (the driver adds its own _id). */
export type OrgMemberDoc = OrgMember;

export type OrgMembers = StoreCollection<OrgMemberDoc>;

export const orgMembersCollection: CollectionSpec = {
  name: ORG_MEMBERS,
  indexes: [{ key: { orgId: 1, userId: 1 }, name: 'orgId_1_userId_1', unique: true }],
  shardKey: { orgId: 'hashed' },
};

/** The domain record of a stored membership. */
export function toOrgMember(doc: OrgMemberDoc): OrgMember {
  return { orgId: doc.orgId, userId: doc.userId, joinedAt: doc.joinedAt };
}

/**
 * Stores the membership unless it exists; true when this call stored it. An upsert rather than an
 * insert: inside a transaction a duplicate-key error would abort the whole unit.
 */
export async function insertIfAbsent(members: OrgMembers, orgId: string, userId: string, at: Date, session: Session) {
  const result = await members.updateOne(
    { orgId, userId },
    { $setOnInsert: { joinedAt: at } },
    { upsert: true, ...within(session) },
  );
  return result.upsertedCount === 1;
}

/** Memberships among these pairs: one query, one $or branch per organization ({orgId, userId}). */
export async function findByKeys(members: OrgMembers, keys: readonly OrgMemberKey[]): Promise<OrgMember[]> {
  if (keys.length === 0) return [];
  const usersByOrg = new Map<string, string[]>();
  for (const { orgId, userId } of keys) usersByOrg.set(orgId, [...(usersByOrg.get(orgId) ?? []), userId]);
  const branches = [...usersByOrg].map(([orgId, userIds]) => ({ orgId, userId: { $in: userIds } }));
  return (await members.find({ $or: branches }).toArray()).map(toOrgMember);
}

/** The organization's members after afterUserId, in user id order ({orgId, userId}). */
export async function findByOrg(members: OrgMembers, orgId: string, afterUserId: string | null, limit: number) {
  const docs = await members.find({ orgId, userId: { $gt: afterUserId ?? '' } }, { sort: { userId: 1 }, limit }).toArray();
  return docs.map(toOrgMember);
}

/**
 * The id of the first organization after afterOrgId that has members, in id order ({orgId, userId}:
 * a range on its first field); null past the last. For the one-off fill of the users' lists, on
 * the unsharded layout only: on a sharded orgMembers a range of orgIds goes to every shard.
 */
export async function findNextOrgId(members: OrgMembers, afterOrgId: string): Promise<string | null> {
  const [doc] = await members
    .find({ orgId: { $gt: afterOrgId } }, { sort: { orgId: 1 }, limit: 1, projection: { _id: 0, orgId: 1 } })
    .toArray();
  return doc ? doc.orgId : null;
}
