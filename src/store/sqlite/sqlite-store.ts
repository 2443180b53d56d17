// The Store port on SQLite (better-sqlite3, WAL): the embedded default. Several processes on one
// host may share the file; writes that must be one unit run in IMMEDIATE transactions, which
// SQLite serializes across processes (the busy timeout makes the others wait their turn).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { TurnBatch } from '../../batching.ts';
import { nameKey } from '../../domain/rules.ts';
import type { Channel, ChannelMember, Device, Invitation, InvitationStatus, Message, Organization } from '../../domain/types.ts';
import {
  type ActivityPosition,
  type ChannelMemberKey,
  type MarkerMove,
  type MentionCountKey,
  type MessageDraft,
  type MessageRange,
  type OrgMemberKey,
  type Reach,
  type ReachKey,
  type Store,
  StoreError,
  type UserProfile,
} from '../store.ts';
import {
  type ChannelMemberRow,
  type ChannelRow,
  type MessageRow,
  type OrgMemberRow,
  type OrganizationRow,
  type UserRow,
  toChannel,
  toChannelMember,
  toMessage,
  toOrgMember,
  toOrganization,
  toUser,
} from './rows.ts';
import * as invitations from './invitations.ts';
import { countReach, fillMarkerCounts, hasMarkerCounts, markersOf, moveCounts } from './marker-counts.ts';
import { PUSH_SCHEMA, SqlitePushStore } from './push.ts';
import { CHANNEL_BATCH_MIN, byChannel, membersOfChannel, mentionsInChannel } from './member-reads.ts';
import { MEMBERS_BY_NAME_KEYS, ensureNameKeys } from './user-names.ts';
import { SCHEMA } from './schema.ts';

const UNIQUE_KEYS: Record<string, string> = {
  'channels.orgId, channels.name': 'channelName',
  'channels.orgId, channels.directKey': 'directKey',
};

/** Most sends one transaction stores: a longer one would hold the write lock (and the event loop) too long. */
const APPENDS_PER_COMMIT = 64;

type Appended = { message: Message; created: boolean };
type AppendOutcome = { appended: Appended } | { error: unknown };

/** SQLite's error in the store's vocabulary, or the error itself when it has no translation. */
function translated(error: unknown): unknown {
  try {
    translate(error);
  } catch (translatedError) {
    return translatedError;
  }
}

/** Maps SQLite's constraint errors to the store's vocabulary. */
function translate(error: unknown): never {
  if (error instanceof Database.SqliteError) {
    if (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      const columns = error.message.replace(/^UNIQUE constraint failed: /, '');
      throw new StoreError('duplicate', error.message, UNIQUE_KEYS[columns] ?? columns);
    }
    if (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_CANTOPEN') {
      throw new StoreError('unavailable', error.message);
    }
  }
  throw error;
}

const BUSY_TIMEOUT_MS = 10_000;

/**
 * Switches the file to WAL. Processes opening a fresh file at the same moment can each hold a read
 * lock while asking for the exclusive one; SQLite then answers SQLITE_BUSY at once instead of
 * waiting (waiting could deadlock), so the switch is retried, for as long as the busy timeout.
 */
function useWriteAheadLog(db: Database.Database): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let mode = 'locked'; ; ) {
    try {
      mode = String(db.pragma('journal_mode = WAL', { simple: true }));
      if (mode === 'wal') return;
    } catch (error) {
      if (!(error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY'))) throw error;
    }
    if (Date.now() > deadline) throw new StoreError('unavailable', `could not switch the SQLite file to WAL (journal mode: ${mode})`);
    Atomics.wait(pause, 0, 0, 5 + Math.random() * 20);
  }
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly push: SqlitePushStore;

  /** Opens (creating when needed) the store file; ':memory:' gives a throw-away store. */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (path !== ':memory:') useWriteAheadLog(this.db);
    // WAL with NORMAL sync survives a killed process (only an OS crash may lose the last commits).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = OFF');
    // One IMMEDIATE transaction, so processes starting together create the tables one after another
    // (and only the first to create the marker counts fills them).
    this.db.transaction(() => {
      const counted = hasMarkerCounts(this.db);
      this.db.exec(SCHEMA + PUSH_SCHEMA);
      if (!counted) fillMarkerCounts(this.db);
      ensureNameKeys(this.db);
    }).immediate();
    this.push = new SqlitePushStore(this.db, (fn) => this.unit(fn));
  }

  private readonly statements = new Map<string, Database.Statement>();
  /** A prepared statement, prepared once per store. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** sql, for the helpers of the other files of the store. */
  private readonly prepare = (text: string) => this.sql(text);

  private all<Row>(text: string, ...params: unknown[]): Row[] {
    return this.sql(text).all(...params) as Row[];
  }

  private get<Row>(text: string, ...params: unknown[]): Row | undefined {
    return this.sql(text).get(...params) as Row | undefined;
  }

  private run(text: string, ...params: unknown[]): Database.RunResult {
    return this.sql(text).run(...params);
  }

  /** The statement helpers, for the queries kept in files of their own. */
  private readonly queries: invitations.Sql = {
    all: <Row>(text: string, ...params: unknown[]) => this.all<Row>(text, ...params),
    get: <Row>(text: string, ...params: unknown[]) => this.get<Row>(text, ...params),
  };

  /** Runs fn as one IMMEDIATE transaction (taking the write lock up front avoids lock upgrades failing). */
  private unit<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (error) {
      translate(error);
    }
  }

  async ping(): Promise<void> {
    this.get('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  async upsertUsers(profiles: readonly UserProfile[]) {
    this.unit(() => {
      for (const profile of profiles) {
        this.run(
          `INSERT INTO users (id, name, nameKey, displayName, email, lastActiveAt) VALUES (?, ?, ?, ?, ?, NULL)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, nameKey = excluded.nameKey, displayName = excluded.displayName, email = excluded.email`,
          profile.id, profile.name, nameKey(profile.name), profile.displayName, profile.email,
        );
      }
    });
  }

  async findUsersByIds(ids: readonly string[]) {
    return this.all<UserRow>('SELECT u.* FROM json_each(?) k JOIN users u ON u.id = k.value', JSON.stringify(ids)).map(toUser);
  }

  async setUserLastActiveAt(userId: string, at: Date) {
    this.run('UPDATE users SET lastActiveAt = max(coalesce(lastActiveAt, 0), ?) WHERE id = ?', at.getTime(), userId);
  }

  async createOrganization(org: Organization, general: Channel, creatorId: string) {
    this.unit(() => {
      this.run(
        'INSERT INTO organizations (id, name, createdAt, memberCount, generalChannelId) VALUES (?, ?, ?, 1, ?)',
        org.id, org.name, org.createdAt.getTime(), general.id,
      );
      this.run('INSERT INTO org_members (orgId, userId, joinedAt) VALUES (?, ?, ?)', org.id, creatorId, org.createdAt.getTime());
      this.insertChannel(general, [creatorId]);
    });
  }

  async findOrganizationsByIds(ids: readonly string[]) {
    return this.all<OrganizationRow>(
      'SELECT o.* FROM json_each(?) k JOIN organizations o ON o.id = k.value',
      JSON.stringify(ids),
    ).map(toOrganization);
  }

  async findOrgMembers(keys: readonly OrgMemberKey[]) {
    return this.all<OrgMemberRow>(
      `SELECT m.* FROM json_each(?) k JOIN org_members m
       ON m.orgId = json_extract(k.value, '$.orgId') AND m.userId = json_extract(k.value, '$.userId')`,
      JSON.stringify(keys),
    ).map(toOrgMember);
  }

  async listOrganizationsOfUser(userId: string, afterOrgId: string | null, limit: number) {
    return this.all<OrganizationRow>(
      `SELECT o.* FROM org_members m JOIN organizations o ON o.id = m.orgId
       WHERE m.userId = ? AND m.orgId > ? ORDER BY m.orgId LIMIT ?`,
      userId, afterOrgId ?? '', limit,
    ).map(toOrganization);
  }

  async listOrgMembers(orgId: string, afterUserId: string | null, limit: number) {
    return this.all<OrgMemberRow>(
      'SELECT * FROM org_members WHERE orgId = ? AND userId > ? ORDER BY userId LIMIT ?',
      orgId, afterUserId ?? '', limit,
    ).map(toOrgMember);
  }

  async addOrgMember(orgId: string, userId: string, at: Date) {
    return this.unit(() => this.insertOrgMember(orgId, userId, at));
  }

  /** Adds an organization member, and to #general, inside a unit; false when already one. */
  private insertOrgMember(orgId: string, userId: string, at: Date): boolean {
    const added = this.run(
      'INSERT INTO org_members (orgId, userId, joinedAt) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      orgId, userId, at.getTime(),
    );
    if (added.changes === 0) return false;
    const org = this.get<{ generalChannelId: string }>(
      'UPDATE organizations SET memberCount = memberCount + 1 WHERE id = ? RETURNING generalChannelId',
      orgId,
    );
    if (org) this.insertMember(org.generalChannelId, userId, at);
    return true;
  }

  async openInvitation(invitation: Invitation) {
    return this.unit(() => invitations.open(this.queries, invitation));
  }

  async findInvitationsByIds(ids: readonly string[]) {
    return invitations.findByIds(this.queries, ids);
  }

  async listPendingInvitationsOfUser(userId: string, limit: number) {
    return invitations.findPendingOfUser(this.queries, userId, limit);
  }

  async changeInvitationStatus(id: string, from: readonly InvitationStatus[], to: InvitationStatus) {
    return invitations.changeStatus(this.queries, id, from, to);
  }

  async acceptInvitation(id: string, at: Date) {
    return this.unit(() => {
      const invitation = invitations.changeStatus(this.queries, id, ['PENDING', 'ACCEPTED'], 'ACCEPTED');
      return invitation && { invitation, joined: this.insertOrgMember(invitation.orgId, invitation.inviteeId, at) };
    });
  }

  async createChannel(channel: Channel, memberIds: readonly string[]) {
    this.unit(() => this.insertChannel(channel, memberIds));
  }

  private insertChannel(channel: Channel, memberIds: readonly string[]) {
    this.run(
      `INSERT INTO channels (id, orgId, kind, name, directKey, lastSeq, lastActiveAt, memberCount, createdAt)
       VALUES (?, ?, ?, ?, ?, 0, ?, 0, ?)`,
      channel.id, channel.orgId, channel.kind, channel.name, channel.directKey,
      channel.lastActiveAt.getTime(), channel.createdAt.getTime(),
    );
    for (const userId of new Set(memberIds)) this.insertMember(channel.id, userId, channel.createdAt);
  }

  /** Adds a member inside a unit; markers start at the newest message so history is not unread. */
  private insertMember(channelId: string, userId: string, at: Date): ChannelMember | null {
    const row = this.get<ChannelMemberRow>(
      `INSERT INTO channel_members (channelId, userId, lastReadSeq, lastDeliveredSeq, joinedAt)
       SELECT id, ?, lastSeq, lastSeq, ? FROM channels WHERE id = ?
       ON CONFLICT DO NOTHING RETURNING *`,
      userId, at.getTime(), channelId,
    );
    if (!row) return null;
    this.run('UPDATE channels SET memberCount = memberCount + 1 WHERE id = ?', channelId);
    moveCounts(this.prepare, channelId, [{ before: null, after: markersOf(row) }]);
    return toChannelMember(row);
  }

  async findChannelsByIds(ids: readonly string[]) {
    return this.all<ChannelRow>('SELECT c.* FROM json_each(?) k JOIN channels c ON c.id = k.value', JSON.stringify(ids)).map(
      toChannel,
    );
  }

  async findDirectChannel(orgId: string, directKey: string) {
    const row = this.get<ChannelRow>("SELECT * FROM channels WHERE orgId = ? AND directKey = ? AND kind = 'DIRECT'", orgId, directKey);
    return row ? toChannel(row) : null;
  }

  async listChannelsOfMember(orgId: string, userId: string, after: ActivityPosition | null, limit: number) {
    const time = after ? after.lastActiveAt.getTime() : Number.MAX_SAFE_INTEGER;
    const id = after ? after.id : '\uffff';
    return this.all<ChannelRow>(
      `SELECT c.* FROM channel_members m JOIN channels c ON c.id = m.channelId
       WHERE m.userId = ? AND c.orgId = ? AND (c.lastActiveAt < ? OR (c.lastActiveAt = ? AND c.id < ?))
       ORDER BY c.lastActiveAt DESC, c.id DESC LIMIT ?`,
      userId, orgId, time, time, id, limit,
    ).map(toChannel);
  }

  async listChannelIdsOfUser(userId: string) {
    return this.all<{ channelId: string }>('SELECT channelId FROM channel_members WHERE userId = ?', userId).map(
      (r) => r.channelId,
    );
  }

  async addChannelMember(channelId: string, userId: string, at: Date) {
    return this.unit(() => this.insertMember(channelId, userId, at));
  }

  async removeChannelMember(channelId: string, userId: string) {
    return this.unit(() => {
      const removed = this.get<ChannelMemberRow>('DELETE FROM channel_members WHERE channelId = ? AND userId = ? RETURNING *', channelId, userId);
      if (!removed) return false;
      this.run('UPDATE channels SET memberCount = memberCount - 1 WHERE id = ?', channelId);
      moveCounts(this.prepare, channelId, [{ before: markersOf(removed), after: null }]);
      return true;
    });
  }

  async findChannelMembers(keys: readonly ChannelMemberKey[]) {
    const rows: ChannelMemberRow[] = [];
    const scattered: ChannelMemberKey[] = [];
    for (const [channelId, group] of byChannel(keys)) {
      if (group.length >= CHANNEL_BATCH_MIN) rows.push(...membersOfChannel(this.prepare, channelId, group.map(({ key }) => key.userId)));
      else for (const { key } of group) scattered.push(key);
    }
    if (scattered.length > 0) {
      rows.push(
        ...this.all<ChannelMemberRow>(
          `SELECT m.* FROM json_each(?) k JOIN channel_members m
           ON m.channelId = json_extract(k.value, '$.channelId') AND m.userId = json_extract(k.value, '$.userId')`,
          JSON.stringify(scattered),
        ),
      );
    }
    return rows.map(toChannelMember);
  }

  async listChannelMembers(channelId: string, afterUserId: string | null, limit: number) {
    return this.all<ChannelMemberRow>(
      'SELECT * FROM channel_members WHERE channelId = ? AND userId > ? ORDER BY userId LIMIT ?',
      channelId, afterUserId ?? '', limit,
    ).map(toChannelMember);
  }

  async findChannelMembersByNames(channelId: string, names: readonly string[]) {
    if (names.length === 0) return [];
    return this.all<UserRow>(MEMBERS_BY_NAME_KEYS, JSON.stringify([...new Set(names.map(nameKey))]), channelId).map(toUser);
  }

  async advanceReadMarker(channelId: string, userId: string, seq: number) {
    return this.moveMarkers(channelId, userId, seq, true);
  }

  async advanceDeliveryMarker(channelId: string, userId: string, seq: number) {
    return this.moveMarkers(channelId, userId, seq, false);
  }

  private moveMarkers(channelId: string, userId: string, seq: number, read: boolean): MarkerMove | null {
    return this.unit(() => this.moveMarkersInUnit(channelId, userId, seq, read));
  }

  /** Moves a member's markers forward inside a unit, and the marker counts with them. */
  private moveMarkersInUnit(channelId: string, userId: string, seq: number, read: boolean): MarkerMove | null {
    const before = this.get<ChannelMemberRow>('SELECT * FROM channel_members WHERE channelId = ? AND userId = ?', channelId, userId);
    if (!before) return null;
    const after = this.get<ChannelMemberRow>(
      `UPDATE channel_members SET lastDeliveredSeq = max(lastDeliveredSeq, ?),
         lastReadSeq = CASE WHEN ? THEN max(lastReadSeq, ?) ELSE lastReadSeq END
       WHERE channelId = ? AND userId = ? RETURNING *`,
      seq, read ? 1 : 0, seq, channelId, userId,
    );
    moveCounts(this.prepare, channelId, [{ before: markersOf(before), after: markersOf(after) }]);
    return { before: toChannelMember(before), after: toChannelMember(after!) };
  }

  async appendMessage(draft: MessageDraft) {
    const outcome = await this.appends.add(draft);
    if ('error' in outcome) throw outcome.error;
    return outcome.appended;
  }

  /**
   * Sends arriving together are stored in one transaction (group commit), each in a savepoint of
   * its own so one that fails leaves the others stored: a commit is most of a send's cost in
   * SQLite, and concurrent senders then share it.
   */
  private readonly appends = new TurnBatch<MessageDraft, AppendOutcome>(async (drafts) => {
    try {
      return this.unit(() =>
        drafts.map((draft): AppendOutcome => {
          try {
            return { appended: this.db.transaction(() => this.appendInUnit(draft))() };
          } catch (error) {
            return { error: translated(error) };
          }
        }),
      );
    } catch (error) {
      return drafts.map(() => ({ error: translated(error) }));
    }
  }, APPENDS_PER_COMMIT);

  /** Takes the channel's next seq and stores the message, inside a unit. */
  private appendInUnit(draft: MessageDraft): Appended {
    if (draft.clientMessageId !== null) {
      const stored = this.get<MessageRow>(
        'SELECT * FROM messages WHERE channelId = ? AND authorId = ? AND clientMessageId = ?',
        draft.channelId, draft.authorId, draft.clientMessageId,
      );
      if (stored) return { message: toMessage(stored), created: false };
    }
    const sentAt = draft.sentAt.getTime();
    const channel = this.get<{ lastSeq: number }>(
      'UPDATE channels SET lastSeq = lastSeq + 1, lastActiveAt = max(lastActiveAt, ?) WHERE id = ? RETURNING lastSeq',
      sentAt, draft.channelId,
    );
    if (!channel) throw new StoreError('unavailable', `channel ${draft.channelId} does not exist`);
    const seq = channel.lastSeq;
    this.run(
      `INSERT INTO messages (id, channelId, seq, authorId, text, mentions, mentionsChannel, sentAt, clientMessageId)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      draft.id, draft.channelId, seq, draft.authorId, draft.text, JSON.stringify(draft.mentions),
      draft.mentionsChannel ? 1 : 0, sentAt, draft.clientMessageId,
    );
    // A message that mentions the channel counts for everyone already; direct rows would double it.
    if (!draft.mentionsChannel) {
      for (const userId of new Set(draft.mentions)) {
        if (userId !== draft.authorId) {
          this.run('INSERT INTO message_mentions (channelId, userId, seq) VALUES (?, ?, ?)', draft.channelId, userId, seq);
        }
      }
    }
    this.moveMarkersInUnit(draft.channelId, draft.authorId, seq, true);
    const message: Message = { ...draft, seq };
    return { message, created: true };
  }

  async findMessagesByIds(ids: readonly string[]) {
    return this.all<MessageRow>('SELECT m.* FROM json_each(?) k JOIN messages m ON m.id = k.value', JSON.stringify(ids)).map(
      toMessage,
    );
  }

  async findMessagesBySeq(keys: readonly { channelId: string; seq: number }[]) {
    return this.all<MessageRow>(
      `SELECT m.* FROM json_each(?) k JOIN messages m
       ON m.channelId = json_extract(k.value, '$.channelId') AND m.seq = json_extract(k.value, '$.seq')`,
      JSON.stringify(keys),
    ).map(toMessage);
  }

  async findMessagesByChannel(channelId: string, range: MessageRange) {
    const order = range.newestFirst ? 'DESC' : 'ASC';
    return this.all<MessageRow>(
      `SELECT * FROM messages WHERE channelId = ? AND seq > ? AND seq < ? ORDER BY seq ${order} LIMIT ?`,
      channelId, range.afterSeq ?? 0, range.beforeSeq ?? Number.MAX_SAFE_INTEGER, range.limit,
    ).map(toMessage);
  }

  async countMentions(keys: readonly MentionCountKey[]) {
    const counts: number[] = new Array(keys.length);
    const scattered: { key: MentionCountKey; index: number }[] = [];
    for (const [channelId, group] of byChannel(keys)) {
      const together = group.length >= CHANNEL_BATCH_MIN ? mentionsInChannel(this.prepare, channelId, group.map(({ key }) => key)) : null;
      if (together) group.forEach(({ index }, i) => (counts[index] = together[i]!));
      else scattered.push(...group);
    }
    if (scattered.length > 0) {
      const rows = this.all<{ count: number }>(
        `WITH k AS (SELECT key AS i, json_extract(value, '$.channelId') AS c, json_extract(value, '$.userId') AS u,
                      json_extract(value, '$.afterSeq') AS s FROM json_each(?))
         SELECT (SELECT count(*) FROM message_mentions mm WHERE mm.channelId = k.c AND mm.userId = k.u AND mm.seq > k.s)
              + (SELECT count(*) FROM messages m WHERE m.channelId = k.c AND m.mentionsChannel = 1 AND m.seq > k.s
                   AND m.authorId <> k.u) AS count
         FROM k ORDER BY k.i`,
        JSON.stringify(scattered.map(({ key }) => key)),
      );
      scattered.forEach(({ index }, i) => (counts[index] = rows[i]!.count));
    }
    return counts;
  }

  async countReach(keys: readonly ReachKey[]): Promise<Reach[]> {
    // A read transaction: the counts and the authors' markers from one snapshot.
    return this.db.transaction(() => countReach(this.prepare, keys))();
  }

  async upsertDevices(devices: readonly Device[]) {
    this.unit(() => {
      for (const device of devices) {
        this.run(
          `INSERT INTO devices (userId, deviceId, lastSeenAt) VALUES (?, ?, ?)
           ON CONFLICT (userId, deviceId) DO UPDATE SET lastSeenAt = max(lastSeenAt, excluded.lastSeenAt)`,
          device.userId, device.deviceId, device.lastSeenAt.getTime(),
        );
      }
    });
  }

  // Notifications for devices that are away: the push part of the port lives in push.ts.
  savePushRegistration: Store['savePushRegistration'] = (registration, max) => this.push.savePushRegistration(registration, max);
  deletePushRegistration: Store['deletePushRegistration'] = (userId, deviceId) => this.push.deletePushRegistration(userId, deviceId);
  deletePushRegistrationById: Store['deletePushRegistrationById'] = (id) => this.push.deletePushRegistrationById(id);
  listPushRegistrations: Store['listPushRegistrations'] = (userIds) => this.push.listPushRegistrations(userIds);
  findPushCursors: Store['findPushCursors'] = (channelIds) => this.push.findPushCursors(channelIds);
  queuePushNotifications: Store['queuePushNotifications'] = (channelId, from, to, entries) =>
    this.push.queuePushNotifications(channelId, from, to, entries);
  claimPushNotifications: Store['claimPushNotifications'] = (owner, now, leaseUntil, limit) =>
    this.push.claimPushNotifications(owner, now, leaseUntil, limit);
  settlePushNotification: Store['settlePushNotification'] = (key, owner, settlement) => this.push.settlePushNotification(key, owner, settlement);
  findChannelsActiveSince: Store['findChannelsActiveSince'] = (since, after, limit) => this.push.findChannelsActiveSince(since, after, limit);
  readPushScanMark: Store['readPushScanMark'] = () => this.push.readPushScanMark();
  claimPushScan: Store['claimPushScan'] = (owner, now, leaseUntil) => this.push.claimPushScan(owner, now, leaseUntil);
  finishPushScan: Store['finishPushScan'] = (owner, mark) => this.push.finishPushScan(owner, mark);
}
