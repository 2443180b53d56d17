// The part of the Store port that notifications for devices that are away need: registrations,
// the outbox, and the deriver's progress through the message log. Both stores implement it;
// test/store/push-contract.ts is its spec.
import type { Channel } from '../domain/types.ts';
import type { ActivityPosition } from './store.ts';
import type {
  PushCursor,
  PushOutboxEntry,
  PushRegistration,
  PushSettlement,
  QueuedPush,
} from '../domain/push.ts';

export interface PushStore {
  /**
   * Stores the device's registration, replacing the one it had and any other registration of the
   * same push target (a phone signed in as someone else now); false, changing nothing, when the
   * user already has maxPerUser registrations of other devices.
   */
  savePushRegistration(registration: PushRegistration, maxPerUser: number): Promise<boolean>;
  /** Removes the device's registration; false when it had none. */
  deletePushRegistration(userId: string, deviceId: string): Promise<boolean>;
  /** Removes the registration with this id (the push service said it is gone); false when it had changed already. */
  deletePushRegistrationById(id: string): Promise<boolean>;
  /** The registrations of these users. */
  listPushRegistrations(userIds: readonly string[]): Promise<PushRegistration[]>;

  /** The deriver's cursors of these channels (channels without one are left out). */
  findPushCursors(channelIds: readonly string[]): Promise<(PushCursor & { channelId: string })[]>;
  /**
   * Moves the channel's cursor from `from` (null: it has none) to `to` and queues the entries, as one
   * unit: an entry for a member and channel that is queued already keeps its place and takes the
   * newer seq. False, changing nothing, when the cursor is not at `from` (another process moved it).
   */
  queuePushNotifications(channelId: string, from: PushCursor | null, to: PushCursor, entries: readonly QueuedPush[]): Promise<boolean>;
  /** Takes up to limit entries due at `now` that nobody holds, holding them for `owner` until leaseUntil. */
  claimPushNotifications(owner: string, now: Date, leaseUntil: Date, limit: number): Promise<PushOutboxEntry[]>;
  /**
   * Records what became of an entry the owner holds (nothing when it holds it no more): removed
   * when its seq was told and no newer message was queued into it; otherwise released, due at the
   * retry time or, with a newer message, at that message's due time.
   */
  settlePushNotification(key: { userId: string; channelId: string }, owner: string, settlement: PushSettlement): Promise<void>;

  /** Channels active at or after `since`, oldest activity first, after a position: what the log scan reads. */
  findChannelsActiveSince(since: Date, after: ActivityPosition | null, limit: number): Promise<Channel[]>;
  /** When the last completed log scan started (null before the first). */
  readPushScanMark(): Promise<Date | null>;
  /** Takes the log scan for owner until leaseUntil; the mark to scan from, or null when another holds it. */
  claimPushScan(owner: string, now: Date, leaseUntil: Date): Promise<Date | null>;
  /** Ends owner's log scan, moving the mark forward to `mark`. */
  finishPushScan(owner: string, mark: Date): Promise<void>;
}
