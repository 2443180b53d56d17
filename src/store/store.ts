// The Store port: every read and write the services need, implemented by sqlite/ and mongo/.
// The store never publishes and never knows GraphQL; both implementations pass
// test/store/contract.ts, the only spec of this interface.
import type {
  Channel,
  ChannelMember,
  Device,
  Invitation,
  InvitationStatus,
  Message,
  OrgMember,
  Organization,
  User,
} from '../domain/types.ts';
import type { PushStore } from './push-store.ts';

export type StoreErrorKind = 'duplicate' | 'unavailable';

/** The one error vocabulary of every store implementation. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly kind: StoreErrorKind,
    message: string,
    /** For 'duplicate': which unique key was hit ('channelName', 'directKey', ...). */
    readonly key?: string,
  ) {
    super(message);
  }
}

export interface UserProfile {
  id: string;
  name: string;
  displayName: string | null;
  email: string | null;
}

export interface ChannelMemberKey {
  channelId: string;
  userId: string;
}

export interface OrgMemberKey {
  orgId: string;
  userId: string;
}

export interface MessageDraft {
  id: string;
  channelId: string;
  authorId: string;
  text: string;
  mentions: string[];
  mentionsChannel: boolean;
  sentAt: Date;
  clientMessageId: string | null;
}

export interface MessageRange {
  /** Only messages with seq > afterSeq. */
  afterSeq?: number;
  /** Only messages with seq < beforeSeq. */
  beforeSeq?: number;
  limit: number;
  /** Newest first (for paging backwards) instead of oldest first. */
  newestFirst?: boolean;
}

export interface MarkerMove {
  /** The member before the move and after it (equal when the marker was already further). */
  before: ChannelMember;
  after: ChannelMember;
}

export interface MentionCountKey {
  channelId: string;
  userId: string;
  /** Count messages after this seq (the member's read marker). */
  afterSeq: number;
}

export interface ReachKey {
  channelId: string;
  seq: number;
  /** The message's author, who is not counted. */
  authorId: string;
}

export interface Reach {
  /** Other members whose delivery marker has reached the message. */
  delivered: number;
  /** Other members whose read marker has reached the message. */
  read: number;
}

export interface ActivityPosition {
  lastActiveAt: Date;
  id: string;
}

export interface Store extends PushStore {
  readonly kind: 'sqlite' | 'mongodb';
  /** Resolves when the store answers; rejects when it cannot be reached. */
  ping(): Promise<void>;
  /** Releases connections and files. */
  close(): Promise<void>;

  /** Creates each user on first sight, else updates the profile from the token's claims; one unit. */
  upsertUsers(profiles: readonly UserProfile[]): Promise<void>;
  /** Users with these ids, in any order; unknown ids are left out (likewise for every findXByIds). */
  findUsersByIds(ids: readonly string[]): Promise<User[]>;
  /** Records when the user was last seen online. */
  setUserLastActiveAt(userId: string, at: Date): Promise<void>;

  /** Creates the organization, its #general channel, and the creator's membership of both, as one unit. */
  createOrganization(org: Organization, general: Channel, creatorId: string): Promise<void>;
  findOrganizationsByIds(ids: readonly string[]): Promise<Organization[]>;
  /** Memberships among these (orgId, userId) pairs. */
  findOrgMembers(keys: readonly OrgMemberKey[]): Promise<OrgMember[]>;
  /** The user's organizations ordered by id, after the given id. */
  listOrganizationsOfUser(userId: string, afterOrgId: string | null, limit: number): Promise<Organization[]>;
  /** The organization's members ordered by user id, after the given id. */
  listOrgMembers(orgId: string, afterUserId: string | null, limit: number): Promise<OrgMember[]>;
  /** Adds the user to the organization and its #general channel; false when already a member. */
  addOrgMember(orgId: string, userId: string, at: Date): Promise<boolean>;

  /**
   * Stores the invitation as pending, unless its invitee has one to the organization already: a
   * pending, declined or accepted one is returned as it is (opened: false), a revoked one is
   * reopened, pending again with this one's inviter and time (keeping its id). One per pair.
   */
  openInvitation(invitation: Invitation): Promise<{ invitation: Invitation; opened: boolean }>;
  findInvitationsByIds(ids: readonly string[]): Promise<Invitation[]>;
  /** The user's pending invitations, newest first. */
  listPendingInvitationsOfUser(userId: string, limit: number): Promise<Invitation[]>;
  /** Moves the invitation to `to` when its status is one of `from`; null when it is not, or there is no such invitation. */
  changeInvitationStatus(id: string, from: readonly InvitationStatus[], to: InvitationStatus): Promise<Invitation | null>;
  /**
   * Accepts a pending invitation (or an accepted one once more) and adds the invitee to the
   * organization and its #general, as one unit; joined is false when they were a member already.
   * Null when the invitation is neither pending nor accepted, or does not exist.
   */
  acceptInvitation(id: string, at: Date): Promise<{ invitation: Invitation; joined: boolean } | null>;

  /** Creates a channel with its first members; StoreError 'duplicate' on a taken name or directKey. */
  createChannel(channel: Channel, memberIds: readonly string[]): Promise<void>;
  findChannelsByIds(ids: readonly string[]): Promise<Channel[]>;
  findDirectChannel(orgId: string, directKey: string): Promise<Channel | null>;
  /** The user's channels in one organization, most recently active first, after a position. */
  listChannelsOfMember(
    orgId: string,
    userId: string,
    after: ActivityPosition | null,
    limit: number,
  ): Promise<Channel[]>;
  /** Every channel id the user belongs to (across organizations). */
  listChannelIdsOfUser(userId: string): Promise<string[]>;

  /** Adds a member whose markers start at the channel's newest message; null when already one. */
  addChannelMember(channelId: string, userId: string, at: Date): Promise<ChannelMember | null>;
  /** Removes a member; false when the user was not one. */
  removeChannelMember(channelId: string, userId: string): Promise<boolean>;
  /** Memberships among these (channelId, userId) pairs. */
  findChannelMembers(keys: readonly ChannelMemberKey[]): Promise<ChannelMember[]>;
  /** The channel's members ordered by user id, after the given id. */
  listChannelMembers(channelId: string, afterUserId: string | null, limit: number): Promise<ChannelMember[]>;
  /** Users among the channel's members whose name is one of these, compared as nameKey()s (@name mentions). */
  findChannelMembersByNames(channelId: string, names: readonly string[]): Promise<User[]>;
  /** Moves the read marker (and the delivery marker with it) forward to seq; never backwards. */
  advanceReadMarker(channelId: string, userId: string, seq: number): Promise<MarkerMove | null>;
  /** Moves the delivery marker forward to seq; never backwards. */
  advanceDeliveryMarker(channelId: string, userId: string, seq: number): Promise<MarkerMove | null>;

  /**
   * Takes the channel's next seq and stores the message, as one unit; moves the channel's
   * lastActiveAt and the author's markers to it. A draft whose (channelId, authorId,
   * clientMessageId) is stored already returns the stored message with created = false.
   */
  appendMessage(draft: MessageDraft): Promise<{ message: Message; created: boolean }>;
  findMessagesByIds(ids: readonly string[]): Promise<Message[]>;
  /** Messages at these (channelId, seq) positions. */
  findMessagesBySeq(keys: readonly { channelId: string; seq: number }[]): Promise<Message[]>;
  /** A channel's messages in a seq range, oldest first unless newestFirst. */
  findMessagesByChannel(channelId: string, range: MessageRange): Promise<Message[]>;

  /** Per key: messages after afterSeq, not by the user, mentioning the user or the channel. */
  countMentions(keys: readonly MentionCountKey[]): Promise<number[]>;
  /** Per key: other members whose delivery / read marker has reached the seq. */
  countReach(keys: readonly ReachKey[]): Promise<Reach[]>;

  /** Registers each device or moves when it was last seen forward; one unit. */
  upsertDevices(devices: readonly Device[]): Promise<void>;
}
