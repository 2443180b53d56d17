// Decides who is due a notification, from the message log, away from the send path. Per channel a
// cursor says how far the log is decided; deciding a stretch writes its outbox entries and moves
// the cursor in one unit (compare-and-set), so a crash or a second process never queues a message
// twice. A process hears of its own sends at once (notify()); a log scan, one process at a time,
// finds what nobody decided (a process died after storing a message) through the channels'
// activity, from a stored mark, so a restart resumes where the last scan got to.
import type { PushConfig } from '../config.ts';
import { membersOfDirectKey } from '../domain/ids.ts';
import type { PushCursor, QueuedPush } from '../domain/push.ts';
import type { Channel, Message } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import type { PushMetrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';

/** Messages read from the log per step. */
const MESSAGES_PER_STEP = 200;
/** Members of a large channel read per step (an @channel is decided in pages of these). */
const MEMBERS_PER_STEP = 1000;
/** Entries written per unit, so no unit grows with a channel's size. */
const ENTRIES_PER_UNIT = 1000;
/** Channels read per page of the log scan. */
const SCAN_PAGE = 500;
/**
 * How far behind its mark each scan looks: a message's channel activity is its author's clock at
 * sending, which can trail the commit (a slow transaction) or another machine's clock.
 */
export const SCAN_MARGIN_MS = 60_000;
/** How far back a channel never decided before is read (the newest messages are what may be due). */
const FIRST_LOOK_MAX = 100;
/** Channels decided at once. */
const PARALLEL_CHANNELS = 4;

/** True when a message can notify anyone: a DIRECT message, a mention, @channel. */
export function mayNotify(channel: Channel, message: Message): boolean {
  return channel.kind === 'DIRECT' || message.mentionsChannel || message.mentions.length > 0;
}

export class OutboxDeriver {
  private readonly waiting = new Set<string>();
  private readonly deciding = new Set<string>();
  private draining = 0;
  private scanning = false;
  private closed = false;
  private readonly startedAt = new Date();

  constructor(
    private readonly store: Store,
    private readonly config: PushConfig,
    private readonly metrics: PushMetrics,
    private readonly logger: Logger,
    /** Distinguishes this process's hold on the log scan. */
    private readonly owner: string,
  ) {}

  /** A message was stored in the channel: decide it soon (the send path does no more than this). */
  notify(channelId: string): void {
    if (this.closed) return;
    this.waiting.add(channelId);
    this.kick();
  }

  /** Starts drainers for the waiting channels, up to the limit. */
  private kick(): void {
    while (!this.closed && this.draining < PARALLEL_CHANNELS && this.draining < this.waiting.size) {
      this.draining++;
      void this.drain();
    }
  }

  close(): void {
    this.closed = true;
    this.waiting.clear();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed) {
        let channelId: string | undefined;
        for (const id of this.waiting) {
          if (!this.deciding.has(id)) {
            channelId = id;
            break;
          }
        }
        // A channel being decided stays waiting: whoever is deciding it takes it again when done.
        if (channelId === undefined) return;
        this.waiting.delete(channelId);
        await this.decideAlone(channelId);
      }
    } finally {
      // In the same turn as the last check, so a kick right after it sees this drainer gone.
      this.draining--;
    }
  }

  /** Decides the channel unless this process is deciding it already (that run reads up to its newest message). */
  private async decideAlone(channelId: string): Promise<void> {
    if (this.deciding.has(channelId)) return;
    this.deciding.add(channelId);
    try {
      await this.decideChannel(channelId);
    } catch (error) {
      // The cursor did not move: the next scan (or send) decides it again.
      this.logger.warn({ err: error, channelId }, 'could not decide notifications for a channel');
    } finally {
      this.deciding.delete(channelId);
      if (this.waiting.has(channelId)) this.kick();
    }
  }

  /** Decides the channel's log up to its newest message, a bounded step at a time. */
  private async decideChannel(channelId: string): Promise<void> {
    while (!this.closed) {
      const [[channel], [cursor]] = await Promise.all([this.store.findChannelsByIds([channelId]), this.store.findPushCursors([channelId])]);
      if (!channel) return;
      const from: PushCursor | null = cursor ? { seq: cursor.seq, memberAfter: cursor.memberAfter } : null;
      const start = from ?? (await this.firstCursor(channel));
      if (start.seq >= channel.lastSeq && start.memberAfter === null && from !== null) return;
      const step = await this.decideStep(channel, start);
      const progressed = step.to.seq !== start.seq || step.to.memberAfter !== start.memberAfter;
      // No progress: the next message is still being written; a later send or scan comes back.
      // A first look is still recorded, so it is not taken again.
      if (!progressed && (from !== null || start.seq === 0)) return;
      if (await this.store.queuePushNotifications(channelId, from, step.to, step.entries)) {
        this.metrics.queued.inc(step.entries.length);
      }
      // Moved by us or by another process: either way, read where it is now.
      if (!progressed || (step.to.seq >= channel.lastSeq && step.to.memberAfter === null)) return;
    }
  }

  /**
   * Where to start in a channel no process has decided yet: after what was sent before the log
   * scan's mark (a channel's first message, or one untouched since before notifications existed).
   */
  private async firstCursor(channel: Channel): Promise<PushCursor> {
    const mark = (await this.store.readPushScanMark()) ?? this.startedAt;
    const since = mark.getTime() - SCAN_MARGIN_MS;
    const newest = await this.store.findMessagesByChannel(channel.id, { limit: FIRST_LOOK_MAX, newestFirst: true });
    const before = newest.find((m) => m.sentAt.getTime() < since);
    if (before) return { seq: before.seq, memberAfter: null };
    if (newest.length < FIRST_LOOK_MAX) return { seq: 0, memberAfter: null };
    return { seq: newest.at(-1)!.seq - 1, memberAfter: null };
  }

  /** Reads messages after `start` and decides them, up to a bounded number of entries. */
  private async decideStep(channel: Channel, start: PushCursor): Promise<{ to: PushCursor; entries: QueuedPush[] }> {
    const messages = await this.store.findMessagesByChannel(channel.id, { afterSeq: start.seq, limit: MESSAGES_PER_STEP });
    const entries: QueuedPush[] = [];
    let to = start;
    for (const message of messages) {
      if (message.seq !== to.seq + 1) break; // a seq still being written (standalone MongoDB): wait for it
      if (!mayNotify(channel, message)) {
        to = { seq: message.seq, memberAfter: null };
        continue;
      }
      const { userIds, memberAfter } = await this.recipients(channel, message, to.memberAfter);
      const dueAt = new Date(message.sentAt.getTime() + this.config.delayMs);
      for (const userId of await this.registered(userIds)) entries.push({ userId, channelId: channel.id, seq: message.seq, dueAt });
      to = memberAfter === null ? { seq: message.seq, memberAfter: null } : { seq: to.seq, memberAfter };
      if (memberAfter !== null || entries.length >= ENTRIES_PER_UNIT) break;
    }
    return { to, entries };
  }

  /**
   * Members the message notifies (never its author): everyone for @channel and in DIRECT channels,
   * else the mentioned members. A large channel is read a page at a time: memberAfter says where
   * the next page starts (null when this one was the last).
   */
  private async recipients(channel: Channel, message: Message, after: string | null): Promise<{ userIds: string[]; memberAfter: string | null }> {
    if (message.mentionsChannel && channel.kind === 'GROUP') {
      const page = await this.store.listChannelMembers(channel.id, after, MEMBERS_PER_STEP);
      const userIds = page.map((m) => m.userId).filter((id) => id !== message.authorId);
      return { userIds, memberAfter: page.length < MEMBERS_PER_STEP ? null : page.at(-1)!.userId };
    }
    const named = channel.kind === 'DIRECT' && channel.directKey ? membersOfDirectKey(channel.directKey) : message.mentions;
    const candidates = [...new Set(named)].filter((id) => id !== message.authorId);
    if (candidates.length === 0) return { userIds: [], memberAfter: null };
    const members = await this.store.findChannelMembers(candidates.map((userId) => ({ channelId: channel.id, userId })));
    return { userIds: members.map((m) => m.userId), memberAfter: null };
  }

  /** Those of the users with a device registered (nobody else can be told anything). */
  private async registered(userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const registrations = await this.store.listPushRegistrations(userIds);
    const withDevice = new Set(registrations.map((r) => r.userId));
    return userIds.filter((id) => withDevice.has(id));
  }

  /**
   * One pass of the log scan, when no other process holds it: every channel active since the mark
   * (less the margin) whose cursor is behind is decided; then the mark moves to this pass's start.
   */
  async scan(): Promise<void> {
    if (this.scanning || this.closed) return;
    this.scanning = true;
    const started = new Date();
    try {
      const mark = await this.store.claimPushScan(this.owner, started, new Date(started.getTime() + this.config.leaseMs));
      if (mark === null) return;
      const since = new Date(mark.getTime() - SCAN_MARGIN_MS);
      for (let after: Channel | undefined; !this.closed; ) {
        const channels = await this.store.findChannelsActiveSince(since, after ? { lastActiveAt: after.lastActiveAt, id: after.id } : null, SCAN_PAGE);
        const cursors = new Map((await this.store.findPushCursors(channels.map((c) => c.id))).map((c) => [c.channelId, c]));
        const behind = channels.filter((c) => {
          const cursor = cursors.get(c.id);
          return cursor ? cursor.seq < c.lastSeq || cursor.memberAfter !== null : c.lastSeq > 0;
        });
        // A few at a time, and only these: waiting for every channel the sends keep naming could last forever.
        for (let i = 0; i < behind.length && !this.closed; i += PARALLEL_CHANNELS) {
          await Promise.all(behind.slice(i, i + PARALLEL_CHANNELS).map((channel) => this.decideAlone(channel.id)));
        }
        if (channels.length < SCAN_PAGE) break;
        after = channels.at(-1);
      }
      if (!this.closed) await this.store.finishPushScan(this.owner, started);
    } catch (error) {
      // The hold lapses after the lease; the next pass starts from the same mark.
      this.logger.warn({ err: error }, 'push log scan failed; retrying');
    } finally {
      this.scanning = false;
    }
  }
}
