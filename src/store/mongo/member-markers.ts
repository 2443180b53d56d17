// Membership writes that add, move or remove markers, each changing the marker counts in the same
// unit (one transaction where the deployment has them), so receipts read from the counts are exact.
import type { ChannelMember } from '../../domain/types.ts';
import type { MarkerMove } from '../store.ts';
import * as channelMembers from './channel-members.ts';
import type { Session } from './database.ts';
import * as markerCounts from './marker-counts.ts';

export interface MarkerCollections {
  channelMembers: channelMembers.ChannelMembers;
  markerCounts: markerCounts.MarkerCounts;
}

/** Stores a new channel's first members, markers at 0, and counts them. */
export async function addFirstMembers(c: MarkerCollections, channelId: string, userIds: readonly string[], at: Date, session: Session) {
  await channelMembers.insertFirstMembers(c.channelMembers, channelId, userIds, at, session);
  await markerCounts.countJoined(c.markerCounts, channelId, userIds, { read: 0, delivered: 0 }, session);
}

/** Adds a member with markers at seq unless one already; the member when this call added it. */
export async function addMember(
  c: MarkerCollections,
  channelId: string,
  userId: string,
  seq: number,
  at: Date,
  session: Session,
): Promise<ChannelMember | null> {
  const member = await channelMembers.insertIfAbsent(c.channelMembers, channelId, userId, seq, at, session);
  if (member) await markerCounts.countJoined(c.markerCounts, channelId, [userId], channelMembers.markersOf(member), session);
  return member;
}

/** Removes a member, counting their markers out; true when this call removed them. */
export async function removeMember(c: MarkerCollections, channelId: string, userId: string, session: Session): Promise<boolean> {
  const removed = await channelMembers.deleteMember(c.channelMembers, channelId, userId, session);
  if (!removed) return false;
  const moves = [{ before: channelMembers.markersOf(removed), after: null }];
  await markerCounts.moveCounts(c.markerCounts, channelId, userId, moves, session);
  return true;
}

/** Moves the delivery marker (and the read marker when read) forward to seq, and the counts with them; null when not a member. */
export async function advanceMarkers(
  c: MarkerCollections,
  channelId: string,
  userId: string,
  seq: number,
  read: boolean,
  session: Session,
): Promise<MarkerMove | null> {
  const move = await channelMembers.moveMarkers(c.channelMembers, channelId, userId, seq, read, session);
  if (!move) return null;
  const moves = [{ before: channelMembers.markersOf(move.before), after: channelMembers.markersOf(move.after) }];
  await markerCounts.moveCounts(c.markerCounts, channelId, userId, moves, session);
  return move;
}
