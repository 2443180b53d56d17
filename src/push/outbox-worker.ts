// Delivers what the outbox holds once it is due. Each process claims due entries for a lease (an
// entry whose holder dies is taken over when the lease ends), checks that the member is still away
// and has not read the channel, tells each of the member's registered devices once, and settles
// the entry: removed when told, released to retry with exponential backoff after a 5xx, a 429 or
// a network error. A registration the push service says is gone is removed.
import type { PushConfig } from '../config.ts';
import type { PushOutboxEntry, PushRegistration } from '../domain/push.ts';
import type { Channel, ChannelMember, User } from '../domain/types.ts';
import type { Logger } from '../logger.ts';
import type { PushMetrics } from '../metrics.ts';
import type { PresenceTracker } from '../realtime/presence.ts';
import type { Store } from '../store/store.ts';
import { type DeliveryOutcome, backoffMs } from './delivery.ts';
import { type PushNotification, gatewayBody, webPushPayload, webPushTopic } from './notification.ts';
import { sendToGateway } from './pusher-sender.ts';
import { sendWebPush } from './web-push-sender.ts';

/** Entries claimed at once. */
const CLAIM_BATCH = 50;
/** Attempts at one notification before it is given up. */
export const ATTEMPTS_MAX = 10;

type Key = { userId: string; channelId: string };
const keyOf = (k: Key) => `${k.userId}\n${k.channelId}`;

/** What a batch of claimed entries needs from the store and presence, read in a few batched calls. */
interface BatchFacts {
  online: Set<string>;
  members: Map<string, ChannelMember>;
  channels: Map<string, Channel>;
  registrations: Map<string, PushRegistration[]>;
}

export class OutboxWorker {
  private busy: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly presence: PresenceTracker,
    private readonly config: PushConfig,
    private readonly metrics: PushMetrics,
    private readonly logger: Logger,
    /** This process's name on the entries it holds. */
    private readonly owner: string,
  ) {}

  /** Delivers every entry due now, a batch at a time (one run at a time per process). */
  poll(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.busy ??= this.run().finally(() => (this.busy = null));
    return this.busy;
  }

  /** Stops claiming and waits for the sends in progress. */
  async close(): Promise<void> {
    this.closed = true;
    await this.busy;
  }

  private async run(): Promise<void> {
    try {
      while (!this.closed) {
        const now = new Date();
        const claimed = await this.store.claimPushNotifications(this.owner, now, new Date(now.getTime() + this.config.leaseMs), CLAIM_BATCH);
        if (claimed.length === 0) return;
        const facts = await this.factsOf(claimed);
        await Promise.all(claimed.map((entry) => this.deliver(entry, facts)));
        if (claimed.length < CLAIM_BATCH) return;
      }
    } catch (error) {
      // Entries claimed and not settled are taken over when their lease ends.
      this.logger.warn({ err: error }, 'push delivery failed; retrying');
    }
  }

  private async factsOf(entries: readonly PushOutboxEntry[]): Promise<BatchFacts> {
    const userIds = [...new Set(entries.map((e) => e.userId))];
    const channelIds = [...new Set(entries.map((e) => e.channelId))];
    const [online, members, channels, registrations] = await Promise.all([
      this.presence.onlineAmong(userIds),
      this.store.findChannelMembers(entries.map(({ userId, channelId }) => ({ userId, channelId }))),
      this.store.findChannelsByIds(channelIds),
      this.store.listPushRegistrations(userIds),
    ]);
    const byUser = new Map<string, PushRegistration[]>();
    for (const r of registrations) byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), r]);
    return {
      online,
      members: new Map(members.map((m) => [keyOf(m), m])),
      channels: new Map(channels.map((c) => [c.id, c])),
      registrations: byUser,
    };
  }

  /** Why the entry is no longer due, or null when it is. */
  private cancelled(entry: PushOutboxEntry, facts: BatchFacts): string | null {
    if (facts.online.has(entry.userId)) return 'online';
    const member = facts.members.get(keyOf(entry));
    if (!member || !facts.channels.has(entry.channelId)) return 'left';
    if (member.lastReadSeq >= entry.seq) return 'read';
    if (!facts.registrations.has(entry.userId)) return 'unregistered';
    return null;
  }

  private async deliver(entry: PushOutboxEntry, facts: BatchFacts): Promise<void> {
    const done = (delivered: Record<string, number>) => ({ seq: entry.seq, delivered, retryAt: null, attempts: entry.attempts });
    try {
      const reason = this.cancelled(entry, facts);
      if (reason) {
        this.metrics.cancelled.inc({ reason });
        return await this.store.settlePushNotification(entry, this.owner, done(entry.delivered));
      }
      const pending = facts.registrations.get(entry.userId)!.filter((r) => (entry.delivered[r.id] ?? 0) < entry.seq);
      const notification = pending.length > 0 ? await this.notificationOf(entry, facts) : null;
      if (!notification) return await this.store.settlePushNotification(entry, this.owner, done(entry.delivered));
      const outcomes = await Promise.all(pending.map((registration) => this.send(registration, notification)));
      await this.settle(entry, pending, outcomes);
    } catch (error) {
      this.logger.warn({ err: error, userId: entry.userId, channelId: entry.channelId }, 'could not deliver a notification; its lease will lapse');
    }
  }

  /** The notification about the entry's message, with the member's counts now; null when the message is gone. */
  private async notificationOf(entry: PushOutboxEntry, facts: BatchFacts): Promise<PushNotification | null> {
    const channel = facts.channels.get(entry.channelId)!;
    const member = facts.members.get(keyOf(entry))!;
    const [[message], [mentionCount]] = await Promise.all([
      this.store.findMessagesBySeq([{ channelId: entry.channelId, seq: entry.seq }]),
      this.store.countMentions([{ channelId: entry.channelId, userId: entry.userId, afterSeq: member.lastReadSeq }]),
    ]);
    if (!message) return null;
    const [author] = await this.store.findUsersByIds([message.authorId]);
    return {
      channel,
      message,
      author: (author as User | undefined) ?? null,
      unreadCount: Math.max(0, channel.lastSeq - member.lastReadSeq, entry.seq - member.lastReadSeq),
      mentionCount: mentionCount ?? 0,
      mentioned: message.mentionsChannel || message.mentions.includes(entry.userId),
    };
  }

  private send(registration: PushRegistration, notification: PushNotification): Promise<DeliveryOutcome> {
    if (registration.kind === 'PUSHER') {
      return sendToGateway(registration, gatewayBody(notification, registration, this.config.content));
    }
    const vapid = this.config.vapid;
    if (!vapid) return Promise.resolve({ kind: 'failed', reason: 'Web Push is not configured (no VAPID key)' });
    return sendWebPush(registration, { payload: webPushPayload(notification, this.config.content), topic: webPushTopic(notification) }, vapid);
  }

  /** Counts what happened to each registration and settles the entry: done, or released to retry. */
  private async settle(entry: PushOutboxEntry, registrations: PushRegistration[], outcomes: DeliveryOutcome[]): Promise<void> {
    const delivered = { ...entry.delivered };
    const attempts = entry.attempts + 1;
    let retryAfter: number | null = null;
    const removals: Promise<unknown>[] = [];
    outcomes.forEach((outcome, i) => {
      const registration = registrations[i]!;
      const kind = registration.kind;
      const log = { userId: entry.userId, deviceId: registration.deviceId, kind, attempts };
      if (outcome.kind === 'sent') this.metrics.sent.inc({ kind });
      if (outcome.kind === 'gone') {
        this.metrics.removed.inc({ kind });
        this.logger.info({ ...log, reason: outcome.reason }, 'removing a push registration its service says is gone');
        removals.push(this.store.deletePushRegistrationById(registration.id));
      }
      if (outcome.kind === 'failed' || (outcome.kind === 'retry' && attempts >= ATTEMPTS_MAX)) {
        this.metrics.failed.inc({ kind });
        this.logger.warn({ ...log, reason: outcome.reason }, 'giving up a notification');
      } else if (outcome.kind === 'retry') {
        this.metrics.retried.inc({ kind });
        this.logger.info({ ...log, reason: outcome.reason }, 'a notification will be retried');
        retryAfter = Math.max(retryAfter ?? 0, backoffMs(this.config.retryBaseMs, attempts), outcome.retryAfterMs ?? 0);
        return;
      }
      delivered[registration.id] = entry.seq;
    });
    await Promise.all(removals);
    const retryAt = retryAfter === null ? null : new Date(Date.now() + retryAfter);
    await this.store.settlePushNotification(entry, this.owner, { seq: entry.seq, delivered, retryAt, attempts });
  }
}
