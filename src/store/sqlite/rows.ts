// Row ↔ record mapping for the SQLite store (times as ms, arrays as JSON, booleans as 0/1).
import type {
  Channel,
  ChannelKind,
  ChannelMember,
  Invitation,
  InvitationStatus,
  Message,
  OrgMember,
  Organization,
  User,
} from '../../domain/types.ts';

export interface UserRow { id: string; name: string; displayName: string | null; email: string | null; lastActiveAt: number | null }
export interface OrganizationRow { id: string; name: string; createdAt: number; memberCount: number; generalChannelId: string }
export interface OrgMemberRow { orgId: string; userId: string; joinedAt: number }
export interface InvitationRow { id: string; orgId: string; inviteeId: string; inviterId: string; status: string; createdAt: number }
export interface ChannelRow {
  id: string; orgId: string; kind: string; name: string; directKey: string | null;
  lastSeq: number; lastActiveAt: number; memberCount: number; createdAt: number;
}
export interface ChannelMemberRow { channelId: string; userId: string; lastReadSeq: number; lastDeliveredSeq: number; joinedAt: number }
export interface MessageRow {
  id: string; channelId: string; seq: number; authorId: string; text: string; mentions: string;
  mentionsChannel: number; sentAt: number; clientMessageId: string | null;
}

export const toUser = (r: UserRow): User => ({
  id: r.id,
  name: r.name,
  displayName: r.displayName,
  email: r.email,
  lastActiveAt: r.lastActiveAt === null ? null : new Date(r.lastActiveAt),
});

export const toOrganization = (r: OrganizationRow): Organization => ({
  id: r.id,
  name: r.name,
  createdAt: new Date(r.createdAt),
  memberCount: r.memberCount,
  generalChannelId: r.generalChannelId,
});

export const toOrgMember = (r: OrgMemberRow): OrgMember => ({ orgId: r.orgId, userId: r.userId, joinedAt: new Date(r.joinedAt) });

export const toInvitation = (r: InvitationRow): Invitation => ({
  id: r.id,
  orgId: r.orgId,
  inviteeId: r.inviteeId,
  inviterId: r.inviterId,
  status: r.status as InvitationStatus,
  createdAt: new Date(r.createdAt),
});

export const toChannel = (r: ChannelRow): Channel => ({
  id: r.id,
  orgId: r.orgId,
  kind: r.kind as ChannelKind,
  name: r.name,
  directKey: r.directKey,
  lastSeq: r.lastSeq,
  lastActiveAt: new Date(r.lastActiveAt),
  memberCount: r.memberCount,
  createdAt: new Date(r.createdAt),
});

export const toChannelMember = (r: ChannelMemberRow): ChannelMember => ({
  channelId: r.channelId,
  userId: r.userId,
  lastReadSeq: r.lastReadSeq,
  lastDeliveredSeq: r.lastDeliveredSeq,
  joinedAt: new Date(r.joinedAt),
});

export const toMessage = (r: MessageRow): Message => ({
  id: r.id,
  channelId: r.channelId,
  seq: r.seq,
  authorId: r.authorId,
  text: r.text,
  mentions: JSON.parse(r.mentions) as string[],
  mentionsChannel: r.mentionsChannel === 1,
  sentAt: new Date(r.sentAt),
  clientMessageId: r.clientMessageId,
});
