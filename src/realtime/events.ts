// What travels between processes, and on which topic. One publish per event, never one per member.
import type { Invitation, Message, PresenceStatus } from '../domain/types.ts';

/** A topic name with the type of what is published on it. */
export interface Topic<Payload> {
  readonly name: string;
  /** Carries the payload type only; never set. */
  readonly payload?: Payload;
}

const topic = <Payload>(name: string): Topic<Payload> => ({ name });

/** Published to channel:{id} after a message is stored. */
export interface MessageAdded {
  kind: 'messageAdded';
  message: Message;
}

/** Published to user:{id}: what every device of that user must hear about. */
export type UserEvent =
  | { kind: 'channelRead'; channelId: string; lastReadSeq: number }
  /** fromSeq (joins): the channel's newest seq when the user joined; later messages are theirs. */
  | { kind: 'membership'; channelId: string; joined: boolean; fromSeq?: number }
  | { kind: 'messageStatus'; channelId: string; messageId: string }
  /** To the invitee: an invitation was opened, answered or revoked. */
  | { kind: 'invitation'; invitation: Invitation };

/** Published to presence:{userId} when the user comes online or goes offline. */
export interface PresenceChange {
  userId: string;
  status: PresenceStatus;
  lastActiveAt: Date | null;
}

export const topics = {
  channel: (channelId: string) => topic<MessageAdded>(`channel:${channelId}`),
  user: (userId: string) => topic<UserEvent>(`user:${userId}`),
  presence: (userId: string) => topic<PresenceChange>(`presence:${userId}`),
};
