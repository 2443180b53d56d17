// organizations: one document per organization, _id = its id; memberCount is kept beside the
// memberships (incremented after a membership is stored, so it never counts someone who is not there).
import type { Organization } from '../../domain/types.ts';
import { type IndexSpec, type Session, type Stored, type StoreCollection, within } from './database.ts';

export const ORGANIZATIONS = 'organizations';

export type OrganizationDoc = Stored<Organization>;

export type Organizations = StoreCollection<OrganizationDoc>;

/** Only the _id index. */
export const organizationIndexes: readonly IndexSpec[] = [];

/** The domain record of a stored organization. */
export function toOrganization(doc: OrganizationDoc): Organization {
  return {
    id: doc._id,
    name: doc.name,
    createdAt: doc.createdAt,
    memberCount: doc.memberCount,
    generalChannelId: doc.generalChannelId,
  };
}

/** Stores a new organization with no members counted yet. */
export async function insertOrganization(orgs: Organizations, org: Organization, session: Session): Promise<void> {
  await orgs.insertOne(
    { _id: org.id, name: org.name, createdAt: org.createdAt, memberCount: 0, generalChannelId: org.generalChannelId },
    within(session),
  );
}

/** Counts one more member; returns the organization's #general channel id, null when there is no such organization. */
export async function incrementMemberCount(orgs: Organizations, orgId: string, session: Session): Promise<string | null> {
  const doc = await orgs.findOneAndUpdate(
    { _id: orgId },
    { $inc: { memberCount: 1 } },
    { returnDocument: 'after', projection: { generalChannelId: 1 }, ...within(session) },
  );
  return doc ? doc.generalChannelId : null;
}

/** Organizations with these ids, in the order of the ids (unknown ids left out). */
export async function findByIds(orgs: Organizations, ids: readonly string[]): Promise<Organization[]> {
  if (ids.length === 0) return [];
  const docs = await orgs.find({ _id: { $in: [...ids] } }).toArray();
  const byId = new Map(docs.map((d) => [d._id, toOrganization(d)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}
