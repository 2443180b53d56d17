// IPC messages between the parent (fleet.ts) and a load-generator process (client.ts).
import type { Params, ProtocolName } from './protocols.ts';

export interface InitMessage {
  type: 'init';
  protocol: ProtocolName;
  /** ws://host:port of each server process; connection i goes to urls[i % urls.length]. */
  urls: string[];
  /** Source address this process binds its sockets to (127.0.0.x). */
  localAddress: string;
  count: number;
  /** Global index of this process's first connection (spreads connections over servers and tokens). */
  offset: number;
  params: Params;
  /** Handshakes in flight at once, so the servers' accept queues never overflow. */
  concurrency: number;
  connectTimeoutMs: number;
}

/**
 * The badges every viewerEvents subscriber must see on the round's frame: the channel's
 * unreadCount, and its mentionCount by connection index (absent: 0). Connection i is user i.
 */
export interface BadgeCheck {
  unread: number;
  mentions: Record<number, number>;
}

export type ToClient =
  | InitMessage
  /** Count the frames containing marker as round `round` (and check their badges). */
  | { type: 'arm'; round: number; marker: string; check?: BadgeCheck }
  /** Report the round now, even if not every subscriber has the message yet. */
  | { type: 'report'; round: number }
  /** Record the latency of each frame containing `prefix<k>:<sendTime>~`. */
  | { type: 'sustain'; prefix: string }
  | { type: 'count' }
  | { type: 'collect' }
  | { type: 'close' };

export type FromClient =
  | { type: 'progress'; subscribed: number; failed: number; lastError?: string }
  /** startedAt / finishedAt: when the first handshake began and the last subscription was sent. */
  | { type: 'ready'; subscribed: number; failed: number; lastError?: string; startedAt: number; finishedAt: number }
  | { type: 'armed'; round: number }
  /**
   * count of live subscribers that got the round's frame, and when the last of them did; for a
   * checked round, the frames checked, how many had other badges, and the first of those.
   */
  | { type: 'done'; round: number; count: number; live: number; last: number; checked: number; mismatches: number; sample?: string }
  | { type: 'sustaining' }
  | { type: 'count'; count: number }
  | { type: 'latencies'; values: number[]; lastReceive: number; live: number };
