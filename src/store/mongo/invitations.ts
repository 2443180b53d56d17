// invitations: one document per (invitee, organization), _id = the invitation's id. The unique
// {inviteeId, orgId} index keeps one per pair (a revoked one is reopened rather than repeated) and
// serves the look-ups by pair; the partial {inviteeId, createdAt, _id} index (on status PENDING,
// which the query names) lists a user's pending invitations newest first, in the index's order.
// Unsharded in the sharded layout: invitations are looked up by their own id as well as by
// invitee, and no one shard key targets both; there are few of them (one per pending or answered
// invitation), so they stay on the database's primary shard.
import type { Invitation, InvitationStatus } from '../../domain/types.ts';
import { type CollectionSpec, type Session, type Stored, type StoreCollection, within } from './database.ts';

export const INVITATIONS = 'invitations';

export type InvitationDoc = Stored<Invitation>;

export type Invitations = StoreCollection<InvitationDoc>;

export const invitationsCollection: CollectionSpec = {
  name: INVITATIONS,
  indexes: [
    { key: { inviteeId: 1, orgId: 1 }, name: 'inviteeId_1_orgId_1', unique: true },
    // _id in the key: the list's tie-break, so the index provides the whole sort.
    { key: { inviteeId: 1, createdAt: -1, _id: -1 }, name: 'inviteeId_1_createdAt_-1__id_-1_pending', partialFilterExpression: { status: 'PENDING' } },
  ],
  shardKey: null,
};

/** The domain record of a stored invitation. */
export function toInvitation(doc: InvitationDoc): Invitation {
  const { _id, orgId, inviteeId, inviterId, status, createdAt } = doc;
  return { id: _id, orgId, inviteeId, inviterId, status, createdAt };
}

/** Stores the invitation as pending, or reopens the pair's revoked one; else returns the pair's invitation as it is. */
export async function open(invitations: Invitations, invitation: Invitation, session: Session) {
  const { id, orgId, inviteeId, inviterId, createdAt } = invitation;
  const reopened = await invitations.findOneAndUpdate(
    { inviteeId, orgId, status: 'REVOKED' },
    { $set: { status: 'PENDING', inviterId, createdAt } },
    { returnDocument: 'after', ...within(session) },
  );
  if (reopened) return { invitation: toInvitation(reopened), opened: true };
  const result = await invitations.updateOne(
    { inviteeId, orgId },
    { $setOnInsert: { _id: id, inviterId, status: 'PENDING', createdAt } },
    { upsert: true, ...within(session) },
  );
  const stored = await invitations.findOne({ inviteeId, orgId }, within(session));
  return { invitation: toInvitation(stored!), opened: result.upsertedCount === 1 };
}

/** Invitations with these ids (unknown ids left out). */
export async function findByIds(invitations: Invitations, ids: readonly string[]): Promise<Invitation[]> {
  if (ids.length === 0) return [];
  return (await invitations.find({ _id: { $in: [...ids] } }).toArray()).map(toInvitation);
}

/** The user's pending invitations, newest first (the partial {inviteeId, createdAt, _id} index). */
export async function findPendingOfUser(invitations: Invitations, userId: string, limit: number): Promise<Invitation[]> {
  const docs = await invitations.find({ inviteeId: userId, status: 'PENDING' }, { sort: { createdAt: -1, _id: -1 }, limit }).toArray();
  return docs.map(toInvitation);
}

/** Moves the invitation to `to` from one of `from`; null when its status is none of them. */
export async function changeStatus(
  invitations: Invitations,
  id: string,
  from: readonly InvitationStatus[],
  to: InvitationStatus,
  session: Session,
): Promise<Invitation | null> {
  const doc = await invitations.findOneAndUpdate(
    { _id: id, status: { $in: [...from] } },
    { $set: { status: to } },
    { returnDocument: 'after', ...within(session) },
  );
  return doc ? toInvitation(doc) : null;
}
