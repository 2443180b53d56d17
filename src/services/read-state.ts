// Read and delivery markers: they only move forward, whichever device acks first, and each move
// is published so the user's other devices (and, in DIRECT channels, the author) hear at once.
import type { RequestContext } from '../context.ts';
import { idOf } from '../domain/ids.ts';
import type { Channel, ChannelMember } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import { topics } from '../realtime/events.ts';
import type { MarkerMove } from '../store/store.ts';
import { requireChannelMember } from './access.ts';

/** Most status events one marker move sends; older messages' status follows from the newest. */
const STATUS_EVENTS_MAX = 50;

function validateSeq(seq: number, channel: Channel, field: string): number {
  if (!Number.isInteger(seq) || seq < 0) throw AppError.badInput(field, `${field} must be 0 or more`);
  if (seq > channel.lastSeq) {
    throw AppError.badInput(field, `${field} is past the channel's newest message (seq ${channel.lastSeq})`);
  }
  return seq;
}

/** In a DIRECT channel, tells the other member which of their messages the move reached. */
async function announceStatus(ctx: RequestContext, channel: Channel, move: MarkerMove): Promise<void> {
  if (channel.kind !== 'DIRECT') return;
  const { before, after } = move;
  const from = Math.min(before.lastDeliveredSeq, before.lastReadSeq);
  const to = Math.max(after.lastDeliveredSeq, after.lastReadSeq);
  if (to <= from) return;
  const reached = await ctx.deps.store.findMessagesByChannel(channel.id, {
    afterSeq: from,
    beforeSeq: to + 1,
    limit: STATUS_EVENTS_MAX,
    newestFirst: true,
  });
  const changed = reached.filter(
    (m) => m.authorId !== ctx.viewer.id && (m.seq > before.lastDeliveredSeq || (m.seq > before.lastReadSeq && m.seq <= after.lastReadSeq)),
  );
  await Promise.all(
    changed.map((m) =>
      ctx.deps.bus.publish(topics.user(m.authorId), { kind: 'messageStatus', channelId: channel.id, messageId: m.id }),
    ),
  );
}

async function moveMarker(
  ctx: RequestContext,
  input: { channelId: string; throughSeq?: number | null },
  read: boolean,
): Promise<Channel> {
  const channelId = idOf('Channel', input.channelId, 'channelId');
  const { channel } = await requireChannelMember(ctx, channelId);
  const seq = input.throughSeq == null ? channel.lastSeq : validateSeq(input.throughSeq, channel, 'throughSeq');
  await ctx.deps.rateLimits.marker.take(ctx.viewer.id);
  const store = ctx.deps.store;
  const move = read
    ? await store.advanceReadMarker(channelId, ctx.viewer.id, seq)
    : await store.advanceDeliveryMarker(channelId, ctx.viewer.id, seq);
  if (!move) throw AppError.forbidden('Join the channel first: only its members have read markers');
  ctx.refreshLoaders();
  if (move.after.lastReadSeq > move.before.lastReadSeq) {
    await ctx.deps.bus.publish(topics.user(ctx.viewer.id), { kind: 'channelRead', channelId, lastReadSeq: move.after.lastReadSeq });
  }
  await announceStatus(ctx, channel, move);
  return channel;
}

/** Moves the viewer's read marker to throughSeq (default: the newest message); never backwards. */
export function markChannelRead(ctx: RequestContext, input: { channelId: string; throughSeq?: number | null }) {
  return moveMarker(ctx, input, true);
}

/** Moves the viewer's delivery marker to throughSeq; never backwards. */
export function acknowledgeDelivery(ctx: RequestContext, input: { channelId: string; throughSeq: number }) {
  return moveMarker(ctx, input, false);
}

/** The viewer's unread count in a channel: messages after the read marker (own ones move it). */
export function unreadCount(channel: Channel, member: ChannelMember | null): number {
  return member ? Math.max(0, channel.lastSeq - member.lastReadSeq) : 0;
}
