// The Store port on SQLite (better-sqlite3, WAL): the embedded default. Several processes on one
// host may share the file; writes that must be one unit run in IMMEDIATE transactions, which
// SQLite serializes across processes (the busy timeout makes the others wait their turn).
// The queries live in files by what they are about; this class makes them the port's units.
import { TurnBatch } from '../../batching.ts';
import type { Channel, Device, Invitation, InvitationStatus, Organization } from '../../domain/types.ts';
import type {
  ActivityPosition,
  ChannelMemberKey,
  MentionCountKey,
  MessageDraft,
  MessageRange,
  OrgMemberKey,
  Reach,
  ReachKey,
  Store,
  UserProfile,
} from '../store.ts';
import * as channels from './channels.ts';
import * as invitations from './invitations.ts';
import { countReach } from './marker-counts.ts';
import * as messages from './messages.ts';
import * as organizations from './organizations.ts';
import { SqlitePushStore } from './push.ts';
import { Sql, openDatabase, translated } from './sql.ts';
import * as users from './users.ts';

/** Most sends one transaction stores: a longer one would hold the write lock (and the event loop) too long. */
const APPENDS_PER_COMMIT = 64;

type AppendOutcome = { appended: messages.Appended } | { error: unknown };

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly sql: Sql;
  private readonly push: SqlitePushStore;

  /** Opens (creating when needed) the store file; ':memory:' gives a throw-away store. */
  constructor(path: string) {
    this.sql = new Sql(openDatabase(path));
    this.push = new SqlitePushStore(this.sql.db, (fn) => this.sql.unit(fn));
  }

  async ping(): Promise<void> {
    this.sql.get('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.sql.db.open) this.sql.db.close();
  }

  async upsertUsers(profiles: readonly UserProfile[]) {
    this.sql.unit(() => users.upsertUsers(this.sql, profiles));
  }

  async findUsersByIds(ids: readonly string[]) {
    return users.findUsersByIds(this.sql, ids);
  }

  async setUserLastActiveAt(userId: string, at: Date) {
    users.setUserLastActiveAt(this.sql, userId, at);
  }

  async upsertDevices(devices: readonly Device[]) {
    this.sql.unit(() => users.upsertDevices(this.sql, devices));
  }

  async createOrganization(org: Organization, general: Channel, creatorId: string) {
    this.sql.unit(() => organizations.createOrganization(this.sql, org, general, creatorId));
  }

  async findOrganizationsByIds(ids: readonly string[]) {
    return organizations.findOrganizationsByIds(this.sql, ids);
  }

  async findOrgMembers(keys: readonly OrgMemberKey[]) {
    return organizations.findOrgMembers(this.sql, keys);
  }

  async listOrganizationsOfUser(userId: string, afterOrgId: string | null, limit: number) {
    return organizations.listOrganizationsOfUser(this.sql, userId, afterOrgId, limit);
  }

  async listOrgMembers(orgId: string, afterUserId: string | null, limit: number) {
    return organizations.listOrgMembers(this.sql, orgId, afterUserId, limit);
  }

  async addOrgMember(orgId: string, userId: string, at: Date) {
    return this.sql.unit(() => organizations.insertOrgMember(this.sql, orgId, userId, at));
  }

  async openInvitation(invitation: Invitation) {
    return this.sql.unit(() => invitations.open(this.sql, invitation));
  }

  async findInvitationsByIds(ids: readonly string[]) {
    return invitations.findByIds(this.sql, ids);
  }

  async listPendingInvitationsOfUser(userId: string, limit: number) {
    return invitations.findPendingOfUser(this.sql, userId, limit);
  }

  async changeInvitationStatus(id: string, from: readonly InvitationStatus[], to: InvitationStatus) {
    return invitations.changeStatus(this.sql, id, from, to);
  }

  async acceptInvitation(id: string, at: Date) {
    return this.sql.unit(() => {
      const invitation = invitations.changeStatus(this.sql, id, ['PENDING', 'ACCEPTED'], 'ACCEPTED');
      return invitation && { invitation, joined: organizations.insertOrgMember(this.sql, invitation.orgId, invitation.inviteeId, at) };
    });
  }

  async createChannel(channel: Channel, memberIds: readonly string[]) {
    this.sql.unit(() => channels.insertChannel(this.sql, channel, memberIds));
  }

  async findChannelsByIds(ids: readonly string[]) {
    return channels.findChannelsByIds(this.sql, ids);
  }

  async findDirectChannel(orgId: string, directKey: string) {
    return channels.findDirectChannel(this.sql, orgId, directKey);
  }

  async listChannelsOfMember(orgId: string, userId: string, after: ActivityPosition | null, limit: number) {
    return channels.listChannelsOfMember(this.sql, orgId, userId, after, limit);
  }

  async listChannelIdsOfUser(userId: string) {
    return channels.listChannelIdsOfUser(this.sql, userId);
  }

  async addChannelMember(channelId: string, userId: string, at: Date) {
    return this.sql.unit(() => channels.insertMember(this.sql, channelId, userId, at));
  }

  async removeChannelMember(channelId: string, userId: string) {
    return this.sql.unit(() => channels.removeMember(this.sql, channelId, userId));
  }

  async findChannelMembers(keys: readonly ChannelMemberKey[]) {
    return channels.findChannelMembers(this.sql, keys);
  }

  async listChannelMembers(channelId: string, afterUserId: string | null, limit: number) {
    return channels.listChannelMembers(this.sql, channelId, afterUserId, limit);
  }

  async findChannelMembersByNames(channelId: string, names: readonly string[]) {
    return channels.findChannelMembersByNames(this.sql, channelId, names);
  }

  async advanceReadMarker(channelId: string, userId: string, seq: number) {
    return this.sql.unit(() => channels.moveMarkers(this.sql, channelId, userId, seq, true));
  }

  async advanceDeliveryMarker(channelId: string, userId: string, seq: number) {
    return this.sql.unit(() => channels.moveMarkers(this.sql, channelId, userId, seq, false));
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
      return this.sql.unit(() =>
        drafts.map((draft): AppendOutcome => {
          try {
            return { appended: this.sql.savepoint(() => messages.appendMessage(this.sql, draft)) };
          } catch (error) {
            return { error: translated(error) };
          }
        }),
      );
    } catch (error) {
      return drafts.map(() => ({ error: translated(error) }));
    }
  }, APPENDS_PER_COMMIT);

  async findMessagesByIds(ids: readonly string[]) {
    return messages.findMessagesByIds(this.sql, ids);
  }

  async findMessagesBySeq(keys: readonly { channelId: string; seq: number }[]) {
    return messages.findMessagesBySeq(this.sql, keys);
  }

  async findMessagesByChannel(channelId: string, range: MessageRange) {
    return messages.findMessagesByChannel(this.sql, channelId, range);
  }

  async countMentions(keys: readonly MentionCountKey[]) {
    return messages.countMentions(this.sql, keys);
  }

  async countReach(keys: readonly ReachKey[]): Promise<Reach[]> {
    // The counts and the authors' markers from one snapshot.
    return this.sql.snapshot(() => countReach(this.sql.prepare, keys));
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
