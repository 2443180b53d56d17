// The records of notifications for devices that are away: where a device is told (a push
// registration) and what is waiting to be told (an outbox entry per member and channel).
import { createHash } from 'node:crypto';

export type PushKind = 'WEB_PUSH' | 'PUSHER';

/** A browser's Web Push subscription (PushSubscription.toJSON()). */
export interface WebPushTarget {
  kind: 'WEB_PUSH';
  endpoint: string;
  /** base64url of the browser's P-256 public key (65 bytes). */
  p256dh: string;
  /** base64url of the browser's auth secret (16 bytes). */
  auth: string;
}

/** A native app's pusher: a push gateway speaking the Matrix Push Gateway API. */
export interface PusherTarget {
  kind: 'PUSHER';
  url: string;
  appId: string;
  pushkey: string;
}

export type PushTarget = WebPushTarget | PusherTarget;

/** One device's registration; a user has at most one per device. */
export type PushRegistration = PushTarget & {
  /** Changes whenever the device registers again, so a stale removal never takes a newer one. */
  id: string;
  userId: string;
  deviceId: string;
  createdAt: Date;
};

/** Where a channel's messages have been decided up to, by the outbox's deriver. */
export interface PushCursor {
  /** Every message up to this seq is decided. */
  seq: number;
  /**
   * The message after seq is being decided a page of members at a time (an @channel in a large
   * channel): its members up to this user id are done. null when none is.
   */
  memberAfter: string | null;
}

/** A notification the deriver found due: this member of this channel, about the message at seq. */
export interface QueuedPush {
  userId: string;
  channelId: string;
  seq: number;
  /** When the member's devices are told unless the member reads it or comes online first. */
  dueAt: Date;
}

/** The outbox's entry for one member and channel: messages queued for it collapse into one. */
export interface PushOutboxEntry {
  userId: string;
  channelId: string;
  /** The newest message it is about. */
  seq: number;
  /** The due time of the newest message queued into it. */
  lastDueAt: Date;
  /** Failed attempts at telling the current seq. */
  attempts: number;
  /** registration id -> the seq it was told already (so a retry never tells a device twice). */
  delivered: Record<string, number>;
}

/** What became of a claimed entry. */
export interface PushSettlement {
  /** The seq that was told (or given up on). */
  seq: number;
  delivered: Record<string, number>;
  /** Try again then; null when nothing is left to try for this seq. */
  retryAt: Date | null;
  attempts: number;
}

/**
 * What makes two registrations the same push target, whoever registered them: a Web Push endpoint,
 * or a gateway app's pushkey (as a Matrix homeserver keys its pushers). A hash, to keep the index small.
 */
export function pushTargetKey(target: PushTarget): string {
  const identity = target.kind === 'WEB_PUSH' ? ['WEB_PUSH', target.endpoint] : ['PUSHER', target.appId, target.pushkey];
  return createHash('sha256').update(JSON.stringify(identity)).digest('base64url');
}
