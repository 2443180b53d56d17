// The push part of the MongoDB store, composed from its collections' files like MongoStore is.
// Units that write several documents run in one transaction where the deployment has them; on a
// standalone server the deriver's cursor is moved before the entries are queued, so a failure
// part-way can lose a notification but never queue one twice.
import type { PushCursor, PushOutboxEntry, PushRegistration, PushSettlement, QueuedPush } from '../../domain/push.ts';
import type { Channel } from '../../domain/types.ts';
import type { PushStore } from '../push-store.ts';
import type { ActivityPosition } from '../store.ts';
import type { ChannelDoc, Channels } from './channels.ts';
import type { CollectionSpec, Session, StoreDatabase } from './database.ts';
import * as outbox from './push-outbox.ts';
import * as progress from './push-progress.ts';
import * as registrations from './push-registrations.ts';
import { CHANNELS } from './channels.ts';

/**
 * The push collections with the indexes their files declare, and how each is laid out in the
 * sharded layout: pushCursors (one per channel, by _id) sharded like channels; pushRegistrations
 * (unique per push target as well as per device: no one shard key could keep both unique),
 * pushOutbox (a queue claimed in due order across all its entries: sharded, every claim would read
 * every shard) and pushScans (one document) unsharded, on the database's primary shard.
 */
export const PUSH_COLLECTIONS: readonly CollectionSpec[] = [
  { name: registrations.PUSH_REGISTRATIONS, indexes: registrations.pushRegistrationIndexes, shardKey: null },
  { name: outbox.PUSH_OUTBOX, indexes: outbox.pushOutboxIndexes, shardKey: null },
  { name: progress.PUSH_CURSORS, indexes: progress.pushCursorIndexes, shardKey: { _id: 'hashed' } },
  { name: progress.PUSH_SCANS, indexes: progress.pushScanIndexes, shardKey: null },
];

/** The channels index the log scan needs (declared beside its query, in push-progress.ts). */
export const channelActivityIndexes = progress.channelActivityIndexes;

/** Most entries one claim takes; each is one findOneAndUpdate. */
const CLAIM_MAX = 100;

export class MongoPushStore implements PushStore {
  private readonly registrations: registrations.PushRegistrations;
  private readonly outbox: outbox.PushOutbox;
  private readonly cursors: progress.PushCursors;
  private readonly scans: progress.PushScans;
  private readonly channels: Channels;

  constructor(
    db: StoreDatabase,
    /** Runs fn with driver errors in the store's vocabulary. */
    private readonly guard: <T>(fn: () => Promise<T>) => Promise<T>,
    /** Runs a multi-document unit: in one transaction when supported, else as its ordered writes. */
    private readonly unit: <T>(fn: (session: Session) => Promise<T>) => Promise<T>,
    /** Channels of stored documents, with their members counted (member-counts.ts). */
    private readonly withMemberCounts: (docs: readonly ChannelDoc[]) => Promise<Channel[]>,
  ) {
    this.registrations = db.collection(registrations.PUSH_REGISTRATIONS);
    this.outbox = db.collection(outbox.PUSH_OUTBOX);
    this.cursors = db.collection(progress.PUSH_CURSORS);
    this.scans = db.collection(progress.PUSH_SCANS);
    this.channels = db.collection(CHANNELS);
  }

  savePushRegistration(registration: PushRegistration, maxPerUser: number) {
    return this.unit(async (session) => {
      if ((await registrations.countOthers(this.registrations, registration, session)) >= maxPerUser) return false;
      await registrations.replace(this.registrations, registration, session);
      return true;
    });
  }

  deletePushRegistration(userId: string, deviceId: string) {
    return this.guard(() => registrations.deleteOfDevice(this.registrations, userId, deviceId));
  }

  deletePushRegistrationById(id: string) {
    return this.guard(() => registrations.deleteById(this.registrations, id));
  }

  listPushRegistrations(userIds: readonly string[]) {
    return this.guard(() => registrations.findOfUsers(this.registrations, userIds));
  }

  findPushCursors(channelIds: readonly string[]) {
    return this.guard(() => progress.findCursors(this.cursors, channelIds));
  }

  async queuePushNotifications(channelId: string, from: PushCursor | null, to: PushCursor, entries: readonly QueuedPush[]) {
    try {
      return await this.unit(async (session) => {
        await progress.moveCursor(this.cursors, channelId, from, to, session);
        for (const entry of entries) await outbox.queue(this.outbox, entry, session);
        return true;
      });
    } catch (error) {
      if (error instanceof progress.CursorMoved) return false;
      throw error;
    }
  }

  claimPushNotifications(owner: string, now: Date, leaseUntil: Date, limit: number) {
    return this.guard(async () => {
      const claimed: PushOutboxEntry[] = [];
      while (claimed.length < Math.min(limit, CLAIM_MAX)) {
        const entry = await outbox.claimOne(this.outbox, owner, now, leaseUntil);
        if (!entry) break;
        claimed.push(entry);
      }
      return claimed;
    });
  }

  settlePushNotification(key: { userId: string; channelId: string }, owner: string, settlement: PushSettlement) {
    return this.guard(() => outbox.settle(this.outbox, key, owner, settlement));
  }

  findChannelsActiveSince(since: Date, after: ActivityPosition | null, limit: number) {
    return this.guard(async () => this.withMemberCounts(await progress.findActiveSince(this.channels, since, after, limit)));
  }

  readPushScanMark() {
    return this.guard(() => progress.readMark(this.scans));
  }

  claimPushScan(owner: string, now: Date, leaseUntil: Date) {
    return this.guard(() => progress.claimScan(this.scans, owner, now, leaseUntil));
  }

  finishPushScan(owner: string, mark: Date) {
    return this.guard(() => progress.finishScan(this.scans, owner, mark));
  }
}
