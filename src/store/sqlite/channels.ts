// Channels, their members and the members' read and delivery markers. A member's markers and the
// channel's marker counts (read receipts) always move together, in one unit.
import { nameKey } from '../../domain/rules.ts';
import type { Channel, ChannelMember, User } from '../../domain/types.ts';
import type { ActivityPosition, ChannelMemberKey, MarkerMove } from '../store.ts';
import { markersOf, moveCounts } from './marker-counts.ts';
import { CHANNEL_BATCH_MIN, byChannel, membersOfChannel } from './member-reads.ts';
import { type ChannelMemberRow, type ChannelRow, type UserRow, toChannel, toChannelMember, toUser } from './rows.ts';
import type { Sql } from './sql.ts';
import { MEMBERS_BY_NAME_KEYS } from './user-names.ts';

/** Inside a unit: the channel and its first members. */
export function insertChannel(sql: Sql, channel: Channel, memberIds: readonly string[]): void {
  sql.run(
    `INSERT INTO channels (id, orgId, kind, name, directKey, lastSeq, lastActiveAt, memberCount, createdAt)
     VALUES (?, ?, ?, ?, ?, 0, ?, 0, ?)`,
    channel.id, channel.orgId, channel.kind, channel.name, channel.directKey,
    channel.lastActiveAt.getTime(), channel.createdAt.getTime(),
  );
  for (const userId of new Set(memberIds)) insertMember(sql, channel.id, userId, channel.createdAt);
}

/** Inside a unit: adds a member; markers start at the newest message so history is not unread. */
export function insertMember(sql: Sql, channelId: string, userId: string, at: Date): ChannelMember | null {
  const row = sql.get<ChannelMemberRow>(
    `INSERT INTO channel_members (channelId, userId, lastReadSeq, lastDeliveredSeq, joinedAt)
     SELECT id, ?, lastSeq, lastSeq, ? FROM channels WHERE id = ?
     ON CONFLICT DO NOTHING RETURNING *`,
    userId, at.getTime(), channelId,
  );
  if (!row) return null;
  sql.run('UPDATE channels SET memberCount = memberCount + 1 WHERE id = ?', channelId);
  moveCounts(sql.prepare, channelId, [{ before: null, after: markersOf(row) }]);
  return toChannelMember(row);
}

/** Inside a unit: removes a member, and its markers from the counts; false when it was none. */
export function removeMember(sql: Sql, channelId: string, userId: string): boolean {
  const removed = sql.get<ChannelMemberRow>('DELETE FROM channel_members WHERE channelId = ? AND userId = ? RETURNING *', channelId, userId);
  if (!removed) return false;
  sql.run('UPDATE channels SET memberCount = memberCount - 1 WHERE id = ?', channelId);
  moveCounts(sql.prepare, channelId, [{ before: markersOf(removed), after: null }]);
  return true;
}

export function findChannelsByIds(sql: Sql, ids: readonly string[]): Channel[] {
  return sql.all<ChannelRow>('SELECT c.* FROM json_each(?) k JOIN channels c ON c.id = k.value', JSON.stringify(ids)).map(toChannel);
}

export function findDirectChannel(sql: Sql, orgId: string, directKey: string): Channel | null {
  const row = sql.get<ChannelRow>("SELECT * FROM channels WHERE orgId = ? AND directKey = ? AND kind = 'DIRECT'", orgId, directKey);
  return row ? toChannel(row) : null;
}

/** A member's channels of one organization, most recently active first (the sidebar's order). */
export function listChannelsOfMember(sql: Sql, orgId: string, userId: string, after: ActivityPosition | null, limit: number): Channel[] {
  const time = after ? after.lastActiveAt.getTime() : Number.MAX_SAFE_INTEGER;
  const id = after ? after.id : '\uffff';
  return sql.all<ChannelRow>(
    `SELECT c.* FROM channel_members m JOIN channels c ON c.id = m.channelId
     WHERE m.userId = ? AND c.orgId = ? AND (c.lastActiveAt < ? OR (c.lastActiveAt = ? AND c.id < ?))
     ORDER BY c.lastActiveAt DESC, c.id DESC LIMIT ?`,
    userId, orgId, time, time, id, limit,
  ).map(toChannel);
}

export function listChannelIdsOfUser(sql: Sql, userId: string): string[] {
  return sql.all<{ channelId: string }>('SELECT channelId FROM channel_members WHERE userId = ?', userId).map((r) => r.channelId);
}

/** Memberships by key: many keys of one channel (a message's fan-out) are one index range. */
export function findChannelMembers(sql: Sql, keys: readonly ChannelMemberKey[]): ChannelMember[] {
  const members: ChannelMember[] = [];
  const scattered: ChannelMemberKey[] = [];
  for (const [channelId, group] of byChannel(keys)) {
    if (group.length >= CHANNEL_BATCH_MIN) {
      for (const member of membersOfChannel(sql.prepare, channelId, group.map(({ key }) => key.userId))) members.push(member);
    } else for (const { key } of group) scattered.push(key);
  }
  if (scattered.length > 0) {
    const rows = sql.all<ChannelMemberRow>(
      `SELECT m.* FROM json_each(?) k JOIN channel_members m
       ON m.channelId = json_extract(k.value, '$.channelId') AND m.userId = json_extract(k.value, '$.userId')`,
      JSON.stringify(scattered),
    );
    for (const row of rows) members.push(toChannelMember(row));
  }
  return members;
}

export function listChannelMembers(sql: Sql, channelId: string, afterUserId: string | null, limit: number): ChannelMember[] {
  return sql.all<ChannelMemberRow>(
    'SELECT * FROM channel_members WHERE channelId = ? AND userId > ? ORDER BY userId LIMIT ?',
    channelId, afterUserId ?? '', limit,
  ).map(toChannelMember);
}

/** The channel's members among these @names (matched as mentions match them, case-insensitively). */
export function findChannelMembersByNames(sql: Sql, channelId: string, names: readonly string[]): User[] {
  if (names.length === 0) return [];
  return sql.all<UserRow>(MEMBERS_BY_NAME_KEYS, JSON.stringify([...new Set(names.map(nameKey))]), channelId).map(toUser);
}

/** Inside a unit: moves a member's markers forward (never back), and the marker counts with them. */
export function moveMarkers(sql: Sql, channelId: string, userId: string, seq: number, read: boolean): MarkerMove | null {
  const before = sql.get<ChannelMemberRow>('SELECT * FROM channel_members WHERE channelId = ? AND userId = ?', channelId, userId);
  if (!before) return null;
  const after = sql.get<ChannelMemberRow>(
    `UPDATE channel_members SET lastDeliveredSeq = max(lastDeliveredSeq, ?),
       lastReadSeq = CASE WHEN ? THEN max(lastReadSeq, ?) ELSE lastReadSeq END
     WHERE channelId = ? AND userId = ? RETURNING *`,
    seq, read ? 1 : 0, seq, channelId, userId,
  );
  moveCounts(sql.prepare, channelId, [{ before: markersOf(before), after: markersOf(after) }]);
  return { before: toChannelMember(before), after: toChannelMember(after!) };
}
