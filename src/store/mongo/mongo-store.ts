// The Store port on MongoDB. Each collection's file holds its indexes, shard key and queries, and
// says which index serves each query; this class composes them into the port's units. A unit that
// writes several documents runs in one transaction where the deployment has them (a replica set or
// sharded cluster); on a standalone server it runs as the same sequence of writes, ordered so that
// a failure part-way leaves nothing wrong in sight (memberships.ts) and unique indexes decide
// every race. The layout (layout.ts) is unsharded or sharded; the sharded one needs transactions.
import { nameKey } from '../../domain/rules.ts';
import type { Channel, Device, Invitation, InvitationStatus, Organization } from '../../domain/types.ts';
import {
  type ActivityPosition,
  type ChannelMemberKey,
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
import { appendInTransaction, appendWithoutTransaction, winnerOfRace } from './append-message.ts';
import * as channelKeys from './channel-keys.ts';
import * as channelMembers from './channel-members.ts';
import * as channels from './channels.ts';
import { StartupFailure } from './connection.ts';
import type { Session, StoreDatabase, TransactionRunner } from './database.ts';
import * as devices from './devices.ts';
import { translate } from './errors.ts';
import { fillUserLists } from './fills.ts';
import * as invitations from './invitations.ts';
import { type StoreCollections, collectionsOf, layoutOf } from './layout.ts';
import * as markerCounts from './marker-counts.ts';
import * as memberCounts from './member-counts.ts';
import * as memberMarkers from './member-markers.ts';
import * as memberships from './memberships.ts';
import * as messageIds from './message-ids.ts';
import * as messages from './messages.ts';
import * as orgMembers from './org-members.ts';
import * as organizations from './organizations.ts';
import { MongoPushStore } from './push-store.ts';
import { ensureLayout } from './startup.ts';
import * as userChannels from './user-channels.ts';
import * as userNames from './user-names.ts';
import * as userOrganizations from './user-organizations.ts';
import * as users from './users.ts';

export interface MongoStoreOptions {
  /** Runs a unit in one transaction; null (the default) where the deployment has none. */
  transactions?: TransactionRunner | null;
  /** The sharded layout (every collection sharded, see layout.ts); it needs transactions. */
  sharded?: boolean;
  /** Releases the connection (the driver's client.close()); nothing to release by default. */
  close?: () => Promise<void>;
}

export class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  private readonly c: StoreCollections;
  private readonly transactions: TransactionRunner | null;
  private readonly push: MongoPushStore;
  readonly sharded: boolean;

  /** A store over db (the driver's Db, or a stand-in); see openMongoStore for connecting to a server. */
  constructor(
    private readonly db: StoreDatabase,
    private readonly options: MongoStoreOptions = {},
  ) {
    this.transactions = options.transactions ?? null;
    this.sharded = options.sharded ?? false;
    if (this.sharded && !this.transactions) throw new StartupFailure('the sharded layout needs transactions (a mongos or a replica set)');
    this.c = collectionsOf(db, this.sharded);
    this.push = new MongoPushStore(db, (fn) => this.guard(fn), (fn) => this.unit(fn), (docs) => this.withMemberCounts(docs));
  }

  /**
   * Creates every collection and its declared indexes, waiting for an index build at most
   * indexBuildWaitMs, then (unsharded layout) fills what a database from before them lacks (marker
   * counts, the users' lists, userNames); run at
   * start-up (idempotent). Rejects with a StartupFailure saying what failed. The sharded layout
   * starts from an empty database, where there is nothing to fill (and walking every channel
   * would go to every shard).
   */
  async start(indexBuildWaitMs = 60_000): Promise<void> {
    await ensureLayout(this.db, layoutOf(this.sharded), indexBuildWaitMs);
    if (this.sharded) return;
    await this.guard(() => markerCounts.fillOnce(this.c.markerCounts, this.c.channelMembers, (fn) => this.unit(fn)));
    await this.guard(() => fillUserLists(this.c, (fn) => this.unit(fn)));
    await this.guard(() => userNames.fillOnce(this.c.userNames, this.c.users));
  }

  /** Runs fn, with driver errors in the store's vocabulary. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      translate(error);
    }
  }

  /** Runs a multi-document unit: in one transaction when supported, else as its ordered writes. */
  private unit<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    const transactions = this.transactions;
    return this.guard(() => (transactions ? transactions(fn) : fn(undefined)));
  }

  async ping(): Promise<void> {
    await this.guard(() => this.db.command({ ping: 1 }));
  }

  async close(): Promise<void> {
    await this.options.close?.();
  }

  upsertUsers(profiles: readonly UserProfile[]) {
    return this.guard(async () => {
      const before = await users.upsertProfiles(this.c.users, profiles);
      await Promise.all(profiles.map((profile, i) => userNames.follow(this.c.userNames, profile.id, before[i]!, profile.name)));
    });
  }

  findUsersByIds(ids: readonly string[]) {
    return this.guard(() => users.findByIds(this.c.users, ids));
  }

  setUserLastActiveAt(userId: string, at: Date) {
    return this.guard(() => users.moveLastActiveAt(this.c.users, userId, at));
  }

  createOrganization(org: Organization, general: Channel, creatorId: string) {
    return this.unit(async (session) => {
      // #general exists before the creator joins the organization, and through it the channel.
      await organizations.insertOrganization(this.c.organizations, org, session);
      await this.insertChannel(general, [], session);
      await memberships.addOrgMember(this.c, org.id, creatorId, org.createdAt, session);
    });
  }

  findOrganizationsByIds(ids: readonly string[]) {
    return this.guard(async () => {
      const docs = await organizations.findByIds(this.c.organizations, ids);
      const byId = new Map((await memberCounts.counted(this.c.memberCounts, docs, organizations.toOrganization)).map((o) => [o.id, o]));
      return ids.flatMap((id) => byId.get(id) ?? []);
    });
  }

  findOrgMembers(keys: readonly OrgMemberKey[]) {
    return this.guard(() => orgMembers.findByKeys(this.c.orgMembers, keys));
  }

  async listOrganizationsOfUser(userId: string, afterOrgId: string | null, limit: number) {
    const ids = await this.guard(() => userOrganizations.findOrgIdsOfUser(this.c.userOrganizations, userId, afterOrgId, limit));
    return this.findOrganizationsByIds(ids);
  }

  listOrgMembers(orgId: string, afterUserId: string | null, limit: number) {
    return this.guard(() => orgMembers.findByOrg(this.c.orgMembers, orgId, afterUserId, limit));
  }

  addOrgMember(orgId: string, userId: string, at: Date) {
    return this.unit((session) => memberships.addOrgMember(this.c, orgId, userId, at, session));
  }

  async openInvitation(invitation: Invitation) {
    const attempt = () => this.unit((session) => invitations.open(this.c.invitations, invitation, session));
    try {
      return await attempt();
    } catch (error) {
      // A concurrent invitation of the same pair won the unique index: the second attempt finds it.
      if (error instanceof StoreError && error.kind === 'duplicate') return attempt();
      throw error;
    }
  }

  findInvitationsByIds(ids: readonly string[]) {
    return this.guard(() => invitations.findByIds(this.c.invitations, ids));
  }

  listPendingInvitationsOfUser(userId: string, limit: number) {
    return this.guard(() => invitations.findPendingOfUser(this.c.invitations, userId, limit));
  }

  changeInvitationStatus(id: string, from: readonly InvitationStatus[], to: InvitationStatus) {
    return this.guard(() => invitations.changeStatus(this.c.invitations, id, from, to, undefined));
  }

  acceptInvitation(id: string, at: Date) {
    return this.unit((session) => memberships.acceptInvitation(this.c, id, at, session));
  }

  createChannel(channel: Channel, memberIds: readonly string[]) {
    return this.unit((session) => this.insertChannel(channel, memberIds, session));
  }

  /** Stores a channel (a taken name fails before anything else is written), then its first members. */
  private async insertChannel(channel: Channel, memberIds: readonly string[], session: Session) {
    if (this.sharded) await channelKeys.reserve(this.c.channelKeys, channel, session);
    await channels.insertChannel(this.c.channels, channel, session);
    await memberships.addFirstMembers(this.c, channel, memberIds, session);
  }

  /** Channels of these stored documents, with their members counted. */
  private withMemberCounts(docs: readonly channels.ChannelDoc[]): Promise<Channel[]> {
    return memberCounts.counted(this.c.memberCounts, docs, channels.toChannel);
  }

  findChannelsByIds(ids: readonly string[]) {
    return this.guard(async () => this.withMemberCounts(await channels.findByIds(this.c.channels, ids)));
  }

  findDirectChannel(orgId: string, directKey: string) {
    return this.guard(async () => {
      const doc = this.sharded
        ? await channelKeys.findDirect(this.c.channelKeys, this.c.channels, orgId, directKey)
        : await channels.findDirect(this.c.channels, orgId, directKey);
      return doc ? ((await this.withMemberCounts([doc]))[0] ?? null) : null;
    });
  }

  listChannelsOfMember(orgId: string, userId: string, after: ActivityPosition | null, limit: number) {
    return this.guard(async () => {
      const ids = await userChannels.findChannelIdsInOrg(this.c.userChannels, userId, orgId);
      return this.withMemberCounts(await channels.findActiveAmong(this.c.channels, ids, orgId, after, limit));
    });
  }

  listChannelIdsOfUser(userId: string) {
    return this.guard(() => userChannels.findChannelIdsOfUser(this.c.userChannels, userId));
  }

  addChannelMember(channelId: string, userId: string, at: Date) {
    return this.unit((session) => memberships.addChannelMember(this.c, channelId, userId, at, session));
  }

  removeChannelMember(channelId: string, userId: string) {
    return this.unit((session) => memberships.removeChannelMember(this.c, channelId, userId, session));
  }

  findChannelMembers(keys: readonly ChannelMemberKey[]) {
    return this.guard(() => channelMembers.findByKeys(this.c.channelMembers, keys));
  }

  listChannelMembers(channelId: string, afterUserId: string | null, limit: number) {
    return this.guard(() => channelMembers.findByChannel(this.c.channelMembers, channelId, afterUserId, limit));
  }

  findChannelMembersByNames(channelId: string, names: readonly string[]) {
    return this.guard(() => userNames.findChannelMembersByNameKeys(this.c, channelId, [...new Set(names.map(nameKey))]));
  }

  advanceReadMarker(channelId: string, userId: string, seq: number) {
    return this.unit((session) => memberMarkers.advanceMarkers(this.c, channelId, userId, seq, true, session));
  }

  advanceDeliveryMarker(channelId: string, userId: string, seq: number) {
    return this.unit((session) => memberMarkers.advanceMarkers(this.c, channelId, userId, seq, false, session));
  }

  appendMessage(draft: MessageDraft) {
    const transactions = this.transactions;
    if (!transactions) return this.guard(() => appendWithoutTransaction(this.c, draft));
    return this.guard(async () => {
      try {
        return await transactions((session) => appendInTransaction(this.c, draft, session));
      } catch (error) {
        // A concurrent send with the same clientMessageId won: answer with its message.
        const winner = await winnerOfRace(this.c, draft, error);
        if (winner) return winner;
        throw error;
      }
    });
  }

  findMessagesByIds(ids: readonly string[]) {
    return this.guard(async () => {
      if (!this.sharded) return messages.findByIds(this.c.messages, ids);
      return messages.findBySeqs(this.c.messages, await messageIds.findPositions(this.c.messageIds, ids));
    });
  }

  findMessagesBySeq(keys: readonly { channelId: string; seq: number }[]) {
    return this.guard(() => messages.findBySeqs(this.c.messages, keys));
  }

  findMessagesByChannel(channelId: string, range: MessageRange) {
    return this.guard(() => messages.findByChannelInRange(this.c.messages, channelId, range));
  }

  countMentions(keys: readonly MentionCountKey[]): Promise<number[]> {
    return this.guard(() => messages.countMentions(this.c.messages, keys));
  }

  countReach(keys: readonly ReachKey[]): Promise<Reach[]> {
    return this.unit((session) => markerCounts.countReach(this.c.markerCounts, this.c.channelMembers, keys, session));
  }

  upsertDevices(records: readonly Device[]) {
    return this.guard(() => devices.upsertDevices(this.c.devices, records));
  }

  // Notifications for devices that are away: the push part of the port lives in push-store.ts.
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
