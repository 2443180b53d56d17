// The Store port on MongoDB. Each collection's file holds its indexes and queries; this class
// composes them into the port's units. A unit that writes several documents runs in one
// transaction where the deployment has them (a replica set or sharded cluster); on a standalone
// server it runs as the same sequence of writes, ordered so that a failure part-way leaves nothing
// wrong in sight: memberships are stored before counts are incremented (a count may fall short,
// never count someone absent) and unique indexes decide every race.
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
import { type AppendCollections, appendInTransaction, appendWithoutTransaction, winnerOfRace } from './append-message.ts';
import * as channelMembers from './channel-members.ts';
import * as channels from './channels.ts';
import { connectMongo, unusable } from './connection.ts';
import { type IndexSpec, type Session, type StoreDatabase, type TransactionRunner, ensureIndexes } from './database.ts';
import * as devices from './devices.ts';
import { translate } from './errors.ts';
import * as invitations from './invitations.ts';
import * as markerCounts from './marker-counts.ts';
import * as memberMarkers from './member-markers.ts';
import * as messages from './messages.ts';
import * as orgMembers from './org-members.ts';
import * as organizations from './organizations.ts';
import { MongoPushStore, PUSH_INDEXES } from './push-store.ts';
import * as users from './users.ts';

export interface MongoStoreOptions {
  /** Runs a unit in one transaction; null (the default) where the deployment has none. */
  transactions?: TransactionRunner | null;
  /** Releases the connection (the driver's client.close()); nothing to release by default. */
  close?: () => Promise<void>;
}

/** Every collection with the indexes its file declares. */
const INDEXES: readonly (readonly [string, readonly IndexSpec[]])[] = [
  [users.USERS, users.userIndexes],
  [organizations.ORGANIZATIONS, organizations.organizationIndexes],
  [orgMembers.ORG_MEMBERS, orgMembers.orgMemberIndexes],
  [invitations.INVITATIONS, invitations.invitationIndexes],
  [channels.CHANNELS, channels.channelIndexes],
  [channelMembers.CHANNEL_MEMBERS, channelMembers.channelMemberIndexes],
  [messages.MESSAGES, messages.messageIndexes],
  [devices.DEVICES, devices.deviceIndexes],
  [markerCounts.MARKER_COUNTS, markerCounts.markerCountIndexes],
  ...PUSH_INDEXES,
];

export class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  private readonly users: users.Users;
  private readonly organizations: organizations.Organizations;
  private readonly orgMembers: orgMembers.OrgMembers;
  private readonly invitations: invitations.Invitations;
  private readonly channels: channels.Channels;
  private readonly channelMembers: channelMembers.ChannelMembers;
  private readonly messages: messages.Messages;
  private readonly devices: devices.Devices;
  private readonly markerCounts: markerCounts.MarkerCounts;
  /** The collections a marker write changes together. */
  private readonly markers: memberMarkers.MarkerCollections;
  private readonly transactions: TransactionRunner | null;
  private readonly push: MongoPushStore;

  /** A store over db (the driver's Db, or a stand-in); see openMongoStore for connecting to a server. */
  constructor(
    private readonly db: StoreDatabase,
    private readonly options: MongoStoreOptions = {},
  ) {
    this.users = db.collection(users.USERS);
    this.organizations = db.collection(organizations.ORGANIZATIONS);
    this.orgMembers = db.collection(orgMembers.ORG_MEMBERS);
    this.invitations = db.collection(invitations.INVITATIONS);
    this.channels = db.collection(channels.CHANNELS);
    this.channelMembers = db.collection(channelMembers.CHANNEL_MEMBERS);
    this.messages = db.collection(messages.MESSAGES);
    this.devices = db.collection(devices.DEVICES);
    this.markerCounts = db.collection(markerCounts.MARKER_COUNTS);
    this.markers = { channelMembers: this.channelMembers, markerCounts: this.markerCounts };
    this.transactions = options.transactions ?? null;
    this.push = new MongoPushStore(db, (fn) => this.guard(fn), (fn) => this.unit(fn));
  }

  /** True when multi-document units run as transactions. */
  get transactional(): boolean {
    return this.transactions !== null;
  }

  /** Creates every collection and its declared indexes, and fills the marker counts once; run at start-up (idempotent). */
  async ensureIndexes(): Promise<void> {
    await this.guard(async () => {
      for (const [name, indexes] of INDEXES) await ensureIndexes(this.db, name, indexes);
    });
    await this.guard(() => markerCounts.fillOnce(this.markerCounts, this.channelMembers, (fn) => this.unit(fn)));
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
    return this.guard(() => users.upsertProfiles(this.users, profiles));
  }

  findUsersByIds(ids: readonly string[]) {
    return this.guard(() => users.findByIds(this.users, ids));
  }

  setUserLastActiveAt(userId: string, at: Date) {
    return this.guard(() => users.moveLastActiveAt(this.users, userId, at));
  }

  createOrganization(org: Organization, general: Channel, creatorId: string) {
    return this.unit(async (session) => {
      // Nothing reaches the organization or its #general before the creator's membership does.
      await organizations.insertOrganization(this.organizations, org, session);
      await channels.insertChannel(this.channels, general, session);
      await orgMembers.insertIfAbsent(this.orgMembers, org.id, creatorId, org.createdAt, session);
      await organizations.incrementMemberCount(this.organizations, org.id, session);
      await this.insertFirstMembers(general, [creatorId], session);
    });
  }

  findOrganizationsByIds(ids: readonly string[]) {
    return this.guard(() => organizations.findByIds(this.organizations, ids));
  }

  findOrgMembers(keys: readonly OrgMemberKey[]) {
    return this.guard(() => orgMembers.findByKeys(this.orgMembers, keys));
  }

  listOrganizationsOfUser(userId: string, afterOrgId: string | null, limit: number) {
    return this.guard(async () => {
      const ids = await orgMembers.findOrgIdsOfUser(this.orgMembers, userId, afterOrgId, limit);
      return organizations.findByIds(this.organizations, ids);
    });
  }

  listOrgMembers(orgId: string, afterUserId: string | null, limit: number) {
    return this.guard(() => orgMembers.findByOrg(this.orgMembers, orgId, afterUserId, limit));
  }

  addOrgMember(orgId: string, userId: string, at: Date) {
    return this.unit((session) => this.insertOrgMember(orgId, userId, at, session));
  }

  /** Adds an organization member, then counts it, then adds them to #general; false when already one. */
  private async insertOrgMember(orgId: string, userId: string, at: Date, session: Session) {
    if (!(await orgMembers.insertIfAbsent(this.orgMembers, orgId, userId, at, session))) return false;
    const generalChannelId = await organizations.incrementMemberCount(this.organizations, orgId, session);
    if (generalChannelId !== null) await this.insertMember(generalChannelId, userId, at, session);
    return true;
  }

  async openInvitation(invitation: Invitation) {
    const attempt = () => this.unit((session) => invitations.open(this.invitations, invitation, session));
    try {
      return await attempt();
    } catch (error) {
      // A concurrent invitation of the same pair won the unique index: the second attempt finds it.
      if (error instanceof StoreError && error.kind === 'duplicate') return attempt();
      throw error;
    }
  }

  findInvitationsByIds(ids: readonly string[]) {
    return this.guard(() => invitations.findByIds(this.invitations, ids));
  }

  listPendingInvitationsOfUser(userId: string, limit: number) {
    return this.guard(() => invitations.findPendingOfUser(this.invitations, userId, limit));
  }

  changeInvitationStatus(id: string, from: readonly InvitationStatus[], to: InvitationStatus) {
    return this.guard(() => invitations.changeStatus(this.invitations, id, from, to, undefined));
  }

  /** Without transactions the status moves first: a failure before the membership is repaired by accepting again. */
  acceptInvitation(id: string, at: Date) {
    return this.unit(async (session) => {
      const invitation = await invitations.changeStatus(this.invitations, id, ['PENDING', 'ACCEPTED'], 'ACCEPTED', session);
      return invitation && { invitation, joined: await this.insertOrgMember(invitation.orgId, invitation.inviteeId, at, session) };
    });
  }

  createChannel(channel: Channel, memberIds: readonly string[]) {
    return this.unit((session) => this.insertChannel(channel, memberIds, session));
  }

  /** Stores a channel (its unique indexes decide a taken name before anything else is written), then its members. */
  private async insertChannel(channel: Channel, memberIds: readonly string[], session: Session) {
    await channels.insertChannel(this.channels, channel, session);
    await this.insertFirstMembers(channel, memberIds, session);
  }

  /** Stores a new channel's first members, then counts them. */
  private async insertFirstMembers(channel: Channel, memberIds: readonly string[], session: Session) {
    const userIds = [...new Set(memberIds)];
    if (userIds.length === 0) return;
    await memberMarkers.addFirstMembers(this.markers, channel.id, userIds, channel.createdAt, session);
    await channels.addToMemberCount(this.channels, channel.id, userIds.length, session);
  }

  /** Adds a member with markers at the channel's newest message, then counts it; null when already one. */
  private async insertMember(channelId: string, userId: string, at: Date, session: Session) {
    const lastSeq = await channels.findLastSeq(this.channels, channelId, session);
    if (lastSeq === null) return null;
    const member = await memberMarkers.addMember(this.markers, channelId, userId, lastSeq, at, session);
    if (member) await channels.addToMemberCount(this.channels, channelId, 1, session);
    return member;
  }

  findChannelsByIds(ids: readonly string[]) {
    return this.guard(() => channels.findByIds(this.channels, ids));
  }

  findDirectChannel(orgId: string, directKey: string) {
    return this.guard(() => channels.findDirect(this.channels, orgId, directKey));
  }

  listChannelsOfMember(orgId: string, userId: string, after: ActivityPosition | null, limit: number) {
    return this.guard(async () => {
      const ids = await channelMembers.findChannelIdsOfUser(this.channelMembers, userId);
      return channels.findActiveAmong(this.channels, ids, orgId, after, limit);
    });
  }

  listChannelIdsOfUser(userId: string) {
    return this.guard(() => channelMembers.findChannelIdsOfUser(this.channelMembers, userId));
  }

  addChannelMember(channelId: string, userId: string, at: Date) {
    return this.unit((session) => this.insertMember(channelId, userId, at, session));
  }

  removeChannelMember(channelId: string, userId: string) {
    return this.unit(async (session) => {
      if (!(await memberMarkers.removeMember(this.markers, channelId, userId, session))) return false;
      await channels.addToMemberCount(this.channels, channelId, -1, session);
      return true;
    });
  }

  findChannelMembers(keys: readonly ChannelMemberKey[]) {
    return this.guard(() => channelMembers.findByKeys(this.channelMembers, keys));
  }

  listChannelMembers(channelId: string, afterUserId: string | null, limit: number) {
    return this.guard(() => channelMembers.findByChannel(this.channelMembers, channelId, afterUserId, limit));
  }

  advanceReadMarker(channelId: string, userId: string, seq: number) {
    return this.unit((session) => memberMarkers.advanceMarkers(this.markers, channelId, userId, seq, true, session));
  }

  advanceDeliveryMarker(channelId: string, userId: string, seq: number) {
    return this.unit((session) => memberMarkers.advanceMarkers(this.markers, channelId, userId, seq, false, session));
  }

  appendMessage(draft: MessageDraft) {
    const c: AppendCollections = { ...this.markers, channels: this.channels, messages: this.messages };
    const transactions = this.transactions;
    if (!transactions) return this.guard(() => appendWithoutTransaction(c, draft));
    return this.guard(async () => {
      try {
        return await transactions((session) => appendInTransaction(c, draft, session));
      } catch (error) {
        // A concurrent send with the same clientMessageId won: answer with its message.
        const winner = await winnerOfRace(c, draft, error);
        if (winner) return winner;
        throw error;
      }
    });
  }

  findMessagesByIds(ids: readonly string[]) {
    return this.guard(() => messages.findByIds(this.messages, ids));
  }

  findMessagesBySeq(keys: readonly { channelId: string; seq: number }[]) {
    return this.guard(() => messages.findBySeqs(this.messages, keys));
  }

  findMessagesByChannel(channelId: string, range: MessageRange) {
    return this.guard(() => messages.findByChannelInRange(this.messages, channelId, range));
  }

  countMentions(keys: readonly MentionCountKey[]): Promise<number[]> {
    return this.guard(() => messages.countMentions(this.messages, keys));
  }

  countReach(keys: readonly ReachKey[]): Promise<Reach[]> {
    return this.unit((session) => markerCounts.countReach(this.markerCounts, this.channelMembers, keys, session));
  }

  upsertDevices(records: readonly Device[]) {
    return this.guard(() => devices.upsertDevices(this.devices, records));
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

/**
 * Connects to MongoDB at url (≈5 s to find a server), pings it, detects transactions and ensures
 * the indexes; rejects with "cannot reach MongoDB at <hosts>: <reason>" when it cannot be used.
 */
export async function openMongoStore(url: string, options: { dbName?: string } = {}): Promise<MongoStore> {
  const connection = await connectMongo(url, options.dbName);
  const store = new MongoStore(connection.db, { transactions: connection.transactions, close: connection.close });
  try {
    await store.ensureIndexes();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw unusable(url, error);
  }
  return store;
}
