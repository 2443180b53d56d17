// pushOutbox: one document per (user, channel) with a notification waiting to be told. A later
// message queued into a waiting one raises its seq ($max) and keeps its due time, which is how
// messages collapse. availableAt is when it may next be claimed: its due time, then the end of a
// claim's lease, then a retry's time; {availableAt} finds what is due.
import type { PushOutboxEntry, PushSettlement, QueuedPush } from '../../domain/push.ts';
import { type IndexSpec, type Session, type StoreCollection, within } from './database.ts';

export const PUSH_OUTBOX = 'pushOutbox';

export interface PushOutboxDoc {
  userId: string;
  channelId: string;
  seq: number;
  lastDueAt: Date;
  availableAt: Date;
  owner: string | null;
  attempts: number;
  delivered: Record<string, number>;
}

export type PushOutbox = StoreCollection<PushOutboxDoc>;

export const pushOutboxIndexes: readonly IndexSpec[] = [
  { key: { userId: 1, channelId: 1 }, name: 'userId_1_channelId_1', unique: true },
  { key: { availableAt: 1 }, name: 'availableAt_1' },
];

function toEntry(doc: PushOutboxDoc): PushOutboxEntry {
  return {
    userId: doc.userId,
    channelId: doc.channelId,
    seq: doc.seq,
    lastDueAt: doc.lastDueAt,
    attempts: doc.attempts,
    delivered: { ...doc.delivered },
  };
}

/** Queues one notification, or collapses it into the one waiting for the same member and channel. */
export async function queue(outbox: PushOutbox, entry: QueuedPush, session: Session): Promise<void> {
  await outbox.updateOne(
    { userId: entry.userId, channelId: entry.channelId },
    {
      $max: { seq: entry.seq, lastDueAt: entry.dueAt },
      $setOnInsert: { availableAt: entry.dueAt, owner: null, attempts: 0, delivered: {} },
    },
    { upsert: true, ...within(session) },
  );
}

/** Takes one due entry nobody holds (the earliest due first), holding it for owner until leaseUntil. */
export async function claimOne(outbox: PushOutbox, owner: string, now: Date, leaseUntil: Date): Promise<PushOutboxEntry | null> {
  const doc = await outbox.findOneAndUpdate(
    { availableAt: { $lte: now } },
    { $set: { owner, availableAt: leaseUntil } },
    { sort: { availableAt: 1 }, returnDocument: 'after' },
  );
  return doc ? toEntry(doc) : null;
}

/** Settles an entry owner holds; compare-and-set on its seq, so a message queued meanwhile is never lost. */
export async function settle(outbox: PushOutbox, key: { userId: string; channelId: string }, owner: string, settlement: PushSettlement) {
  for (;;) {
    const doc = await outbox.findOne({ userId: key.userId, channelId: key.channelId, owner });
    if (!doc) return;
    const newer = doc.seq > settlement.seq;
    if (!newer && settlement.retryAt === null) {
      const removed = await outbox.deleteOne({ userId: key.userId, channelId: key.channelId, owner, seq: doc.seq });
      if (removed.deletedCount === 1) return;
      continue;
    }
    const availableAt = new Date(Math.max(settlement.retryAt?.getTime() ?? 0, newer ? doc.lastDueAt.getTime() : 0));
    const released = await outbox.updateOne(
      { userId: key.userId, channelId: key.channelId, owner, seq: doc.seq },
      { $set: { owner: null, availableAt, attempts: settlement.retryAt ? settlement.attempts : 0, delivered: settlement.delivered } },
    );
    if (released.matchedCount === 1) return;
  }
}
