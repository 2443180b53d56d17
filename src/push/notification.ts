// What a notification says, as each protocol carries it: the JSON a service worker receives through
// Web Push, and the Matrix Push Gateway API's notify body. With PUSH_CONTENT=minimal neither
// carries the message's text nor any name: the app fetches them once it wakes.
import { createHash } from 'node:crypto';
import type { PusherTarget } from '../domain/push.ts';
import type { Channel, Message, User } from '../domain/types.ts';
import { toGlobalId } from '../domain/ids.ts';

/** One member's notification about a channel's newest message due for them, with the member's counts. */
export interface PushNotification {
  channel: Channel;
  message: Message;
  author: User | null;
  /** The channel's unread messages and unread mentions of the member, when it is sent. */
  unreadCount: number;
  mentionCount: number;
  /** The message mentions the member (directly or through @channel). */
  mentioned: boolean;
}

/** RFC 8291 leaves room for 3993 bytes of plaintext in one 4096-byte record; keep well inside it. */
const PAYLOAD_MAX_BYTES = 3600;

/** The sender's name as people see it. */
const nameOf = (author: User | null) => author?.displayName ?? author?.name ?? 'unknown';

/** The channel's name as the member sees it: a DIRECT channel is named after the other member. */
const channelNameOf = (n: PushNotification) => (n.channel.kind === 'DIRECT' ? nameOf(n.author) : n.channel.name);

/** The JSON text of body(text), with the text shortened (by code points, with an ellipsis) until it fits. */
function fitted(text: string, body: (text: string) => unknown): string {
  let chars = [...text];
  for (;;) {
    const json = JSON.stringify(body(chars.length < [...text].length ? `${chars.join('')}…` : text));
    const over = Buffer.byteLength(json) - PAYLOAD_MAX_BYTES;
    if (over <= 0 || chars.length === 0) return json;
    chars = chars.slice(0, Math.max(0, chars.length - Math.max(1, Math.ceil(over / 2))));
  }
}

/** The Web Push payload (UTF-8 JSON, encrypted by the sender). Ids are the API's global ids. */
export function webPushPayload(n: PushNotification, content: 'full' | 'minimal'): string {
  const base = {
    kind: 'MESSAGE',
    channelId: toGlobalId('Channel', n.channel.id),
    messageId: toGlobalId('Message', n.message.id),
    seq: n.message.seq,
    sentAt: n.message.sentAt.toISOString(),
    unreadCount: n.unreadCount,
    mentionCount: n.mentionCount,
    mentioned: n.mentioned,
  };
  if (content === 'minimal') return JSON.stringify(base);
  const sender = n.author
    ? { id: toGlobalId('User', n.author.id), name: n.author.name, displayName: n.author.displayName }
    : { id: toGlobalId('User', n.message.authorId), name: 'unknown', displayName: null };
  return fitted(n.message.text, (text) => ({ ...base, channelKind: n.channel.kind, channelName: channelNameOf(n), sender, text }));
}

/**
 * Web Push's Topic (RFC 8030 §5.4): a newer notification about the same channel replaces one the
 * push service still holds. At most 32 base64url characters, so a digest of the channel's id.
 */
export function webPushTopic(n: PushNotification): string {
  return createHash('sha256').update(n.channel.id).digest('base64url').slice(0, 32);
}

/** The notify request body of the Matrix Push Gateway API for one pusher. */
export function gatewayBody(n: PushNotification, pusher: PusherTarget & { createdAt: Date }, content: 'full' | 'minimal'): string {
  const device = {
    app_id: pusher.appId,
    pushkey: pusher.pushkey,
    pushkey_ts: Math.floor(pusher.createdAt.getTime() / 1000),
    data: content === 'minimal' ? { format: 'event_id_only' } : {},
    tweaks: n.mentioned ? { sound: 'default', highlight: true } : { sound: 'default' },
  };
  // Counts whose value is zero are left out, as the API asks.
  const counts = { unread: n.unreadCount, ...(n.mentionCount > 0 ? { mentions: n.mentionCount } : {}) };
  const base = {
    event_id: toGlobalId('Message', n.message.id),
    room_id: toGlobalId('Channel', n.channel.id),
    prio: 'high',
    counts,
    devices: [device],
  };
  if (content === 'minimal') return JSON.stringify({ notification: base });
  return fitted(n.message.text, (text) => ({
    notification: {
      ...base,
      type: 'm.room.message',
      sender: toGlobalId('User', n.message.authorId),
      sender_display_name: nameOf(n.author),
      room_name: channelNameOf(n),
      content: { msgtype: 'm.text', body: text },
    },
  }));
}
