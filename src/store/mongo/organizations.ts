// organizations: one document per organization, _id = its id. Only _id is queried (the _id index);
// sharded on the hashed _id. Its member count is kept apart (member-counts.ts): the memberCount
// stored here is the count of deployments from before that, frozen, and 0 for newer organizations.
import type { Organization } from '../../domain/types.ts';
import { type CollectionSpec, type Session, type Stored, type StoreCollection, within } from './database.ts';

export const ORGANIZATIONS = 'organizations';

export type OrganizationDoc = Stored<Organization>;

export type Organizations = StoreCollection<OrganizationDoc>;

/** Only the _id index. */
export const organizationsCollection: CollectionSpec = { name: ORGANIZATIONS, indexes: [], shardKey: { _id: 'hashed' } };

/** The domain record of a stored organization, with the members counted apart. */
export function toOrganization(doc: OrganizationDoc, counted: number): Organization {
  return {
    id: doc._id,
    name: doc.name,
    createdAt: doc.createdAt,
    memberCount: (doc.memberCount ?? 0) + counted,
    generalChannelId: doc.generalChannelId,
  };
}

/** Stores a new organization; its members are counted in member-counts.ts. */
export async function insertOrganization(orgs: Organizations, org: Organization, session: Session): Promise<void> {
  await orgs.insertOne(
    { _id: org.id, name: org.name, createdAt: org.createdAt, memberCount: 0, generalChannelId: org.generalChannelId },
    within(session),
  );
}

/** The organization's #general channel id, null when there is no such organization (_id). */
export async function findGeneralChannelId(orgs: Organizations, orgId: string, session: Session): Promise<string | null> {
  const doc = await orgs.findOne({ _id: orgId }, { projection: { generalChannelId: 1 }, ...within(session) });
  return doc ? doc.generalChannelId : null;
}

/** Organizations with these ids (_id), unknown ids left out. */
export async function findByIds(orgs: Organizations, ids: readonly string[]): Promise<OrganizationDoc[]> {
  if (ids.length === 0) return [];
  return orgs.find({ _id: { $in: [...ids] } }).toArray();
}
