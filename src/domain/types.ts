// The product's records, as the store keeps them and the services pass them around.

export type ChannelKind = 'GROUP' | 'DIRECT';

export interface User {
  id: string;
  /** Handle used in mentions (from the token's name claim). */
  name: string;
  displayName: string | null;
  email: string | null;
  lastActiveAt: Date | null;
}

export interface Organization {
  id: string;
  name: string;
  createdAt: Date;
  memberCount: number;
  /** The organization's #general channel, which every member belongs to. */
  generalChannelId: string;
}

export interface OrgMember {
  orgId: string;
  userId: string;
  joinedAt: Date;
}

export type InvitationStatus = 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'REVOKED';

/** A member's invitation of a user into an organization; only the invitee's acceptance makes them a member. */
export interface Invitation {
  id: string;
  orgId: string;
  /** Whoever the invitation is for; nobody checks that such a user exists (see services/invitations.ts). */
  inviteeId: string;
  inviterId: string;
  status: InvitationStatus;
  createdAt: Date;
}

export interface Channel {
  id: string;
  orgId: string;
  kind: ChannelKind;
  /** GROUP: the channel's name. DIRECT: empty (each side sees the other member's name). */
  name: string;
  /** DIRECT only: the two members' ids in a fixed order, unique per organization. */
  directKey: string | null;
  /** seq of the newest message (0 when none). */
  lastSeq: number;
  lastActiveAt: Date;
  memberCount: number;
  createdAt: Date;
}

export interface ChannelMember {
  channelId: string;
  userId: string;
  /** Read marker: seq of the last message the member has read. Only moves forward. */
  lastReadSeq: number;
  /** Delivery marker: seq of the last message delivered to one of the member's devices. */
  lastDeliveredSeq: number;
  joinedAt: Date;
}

export interface Message {
  id: string;
  channelId: string;
  seq: number;
  authorId: string;
  text: string;
  mentions: string[];
  mentionsChannel: boolean;
  sentAt: Date;
  clientMessageId: string | null;
}

export interface Device {
  userId: string;
  deviceId: string;
  lastSeenAt: Date;
}

export type PresenceStatus = 'ONLINE' | 'OFFLINE';

export interface Presence {
  userId: string;
  status: PresenceStatus;
  lastActiveAt: Date | null;
}

/** The signed-in user of a request or connection. */
export interface Viewer {
  id: string;
  name: string;
  /** The device of a WebSocket connection (generated when the client names none). */
  deviceId: string | null;
}
