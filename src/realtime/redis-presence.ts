// Presence shared by every process through Redis: a user is ONLINE while in `online` or `pending`
// (the keys and scripts are in presence-scripts.ts). ONLINE is published when a device arrives and
// the user was in neither; OFFLINE when a due `pending` entry is settled. The process whose device
// left settles that entry after the grace; the sweeper (presence-sweeper.ts: one process at a time)
// settles the entries of processes that died, and moves users whose devices all expired from
// `online` to `pending`. On a Redis Cluster the same runs on the shards of presence-layout.ts.
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { EventBus } from './bus.ts';
import { TurnBatch } from '../batching.ts';
import { DeviceLog } from './device-log.ts';
import { type PresenceChange, topics } from './events.ts';
import type { PresenceTracker } from './presence.ts';
import { type PresenceLayout, byShard } from './presence-layout.ts';
import { LEAVE, SETTLE, TOUCH } from './presence-scripts.ts';
import { PresenceSweeper, settleArgs } from './presence-sweeper.ts';

export { presenceKeys } from './presence-scripts.ts';

/** What is published: a change and its place in the order of all presence changes. */
export type SequencedPresenceChange = PresenceChange & { seq: number };

/** Devices per TOUCH: a process holds tens of thousands. */
const BATCH = 500;

export interface RedisPresenceOptions {
  graceMs: number;
  ttlMs: number;
  sweepMs: number;
}

export class RedisPresence implements PresenceTracker {
  readonly kind: 'redis' | 'redis-cluster';
  /** Distinguishes this process's entries from another's for the same device. */
  readonly processId = randomUUID();
  /** userId → deviceId → open connections of this process. */
  private readonly local = new Map<string, Map<string, number>>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  /** Leaves to send again once Redis answers, and resyncs to come. */
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly resyncListeners = new Set<() => void>();
  /** How long Redis remembers that a user's OFFLINE was published (see presence:offline). */
  private readonly offlineMarkMs: number;
  private readonly refreshTimer: NodeJS.Timeout;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly sweeper: PresenceSweeper;
  private refreshing = false;
  private closed = false;
  private readonly deviceLog: DeviceLog;
  /** Devices connecting in one turn of the event loop: one TOUCH for all of them. */
  private readonly arrivals: TurnBatch<readonly [userId: string, deviceId: string], number>;

  constructor(
    /** Presence's own connection: a single Redis, or a cluster laid out in shards. */
    private readonly redis: Redis | Cluster,
    private readonly layout: PresenceLayout,
    private readonly bus: EventBus,
    private readonly store: Store,
    private readonly options: RedisPresenceOptions,
    private readonly logger: Logger,
  ) {
    this.kind = 'isCluster' in redis && redis.isCluster ? 'redis-cluster' : 'redis';
    this.redis.on('error', (error) => logger.debug({ err: error }, 'presence redis connection error'));
    // Longer than any owner's settle can come after a sweeper's, so an OFFLINE is not said twice.
    this.offlineMarkMs = Math.max(60_000, 2 * (options.ttlMs + options.graceMs));
    const { graceMs, sweepMs } = options;
    const sweeping = { processId: this.processId, graceMs, sweepMs, offlineMarkMs: this.offlineMarkMs };
    this.sweeper = new PresenceSweeper(redis, layout, sweeping, (userId, seq) => this.wentOffline(userId, seq), logger);
    this.deviceLog = new DeviceLog(store, logger);
    this.arrivals = new TurnBatch((entries) => this.touch(entries), BATCH);
    this.refreshTimer = setInterval(() => void this.refresh(), Math.max(50, Math.floor(options.ttlMs / 3)));
    this.refreshTimer.unref();
    this.sweepTimer = setInterval(() => void this.sweep(), options.sweepMs);
    this.sweepTimer.unref();
    // Changes published while the bus was away were lost. What Redis says is current again once
    // every process has refreshed its devices (they are written back if Redis lost them) and a
    // sweep has run: a third of the TTL and a sweep after the bus is back.
    bus.onReconnect(() => {
      const timer = setTimeout(() => {
        this.retries.delete(timer);
        if (!this.closed) for (const listener of this.resyncListeners) listener();
      }, Math.floor(options.ttlMs / 3) + options.sweepMs);
      timer.unref();
      this.retries.add(timer);
    });
  }

  onResync(fn: () => void): () => void {
    const listener = () => fn();
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  private member(deviceId: string): string {
    return `${deviceId}#${this.processId}`;
  }

  /**
   * Sends TOUCH for these devices at once (the order of this connection's commands is the order
   * of the calls); resolves with the seq of an ONLINE to publish (or 0) for each.
   */
  private async touch(entries: readonly (readonly [userId: string, deviceId: string])[]): Promise<number[]> {
    // One script per shard: its keys share the shard's slot.
    const { devices, offline } = this.layout;
    const seqsOf = new Map<readonly [string, string], number>();
    const touches = [...byShard(this.layout, entries, ([userId]) => userId)].map(async ([shard, batch]) => {
      const { online, pending, seq } = this.layout.shards[shard]!;
      const keys = [online, pending, seq, ...batch.map(([userId]) => devices(userId)), ...batch.map(([userId]) => offline(userId))];
      const args = batch.flatMap(([userId, deviceId]) => [this.member(deviceId), userId]);
      const seqs = (await this.redis.eval(TOUCH, keys.length, ...keys, this.options.ttlMs, ...args)) as unknown[];
      batch.forEach((entry, i) => seqsOf.set(entry, Number(seqs[i])));
    });
    await Promise.all(touches);
    return entries.map((entry) => seqsOf.get(entry) ?? 0);
  }

  private leave(userId: string, deviceId: string): Promise<unknown> {
    const { devices, offline } = this.layout;
    const { online, pending } = this.layout.shards[this.layout.shardOf(userId)]!;
    return this.redis.eval(LEAVE, 4, devices(userId), online, pending, offline(userId), this.member(deviceId), userId, this.options.graceMs);
  }

  /** Starts the grace when the leave (sent already) was the user's last device; tries again while Redis does not answer. */
  private async left(leave: Promise<unknown>, userId: string, deviceId: string): Promise<void> {
    try {
      if (Number(await leave) === 1) this.scheduleSettle(userId, this.options.graceMs);
    } catch (error) {
      // Not left to expire: if Redis has lost its data meanwhile, nothing there remembers the
      // device, and only this process knows that its user must go OFFLINE.
      this.logger.warn({ err: error, userId }, 'could not remove a device from redis; trying again');
      const timer = setTimeout(() => {
        this.retries.delete(timer);
        // Back on this process meanwhile: its entry is current again.
        if (this.closed || this.local.get(userId)?.has(deviceId)) return;
        void this.left(this.leave(userId, deviceId), userId, deviceId);
      }, this.options.sweepMs);
      timer.unref();
      this.retries.add(timer);
    }
  }

  async deviceConnected(userId: string, deviceId: string): Promise<void> {
    if (this.closed) return;
    let devices = this.local.get(userId);
    if (!devices) {
      devices = new Map();
      this.local.set(userId, devices);
    }
    const connections = devices.get(deviceId) ?? 0;
    devices.set(deviceId, connections + 1);
    this.cancelGrace(userId);
    const touched = connections === 0 ? this.arrivals.add([userId, deviceId]) : null;
    this.deviceLog.seen(userId, deviceId);
    if (touched) {
      try {
        const seq = (await touched) ?? 0;
        // Once the entry is written the device is online; the change reaches watchers on its own
        // (the bus keeps a publish that fails and tries it again), not before the device is acknowledged.
        if (seq > 0) {
          this.publish(userId, 'ONLINE', new Date(), seq).catch((error: unknown) => {
            this.logger.warn({ err: error, userId }, 'could not publish a device coming online');
          });
        }
      } catch (error) {
        // The entry is written by the next refresh, which publishes ONLINE then.
        this.logger.warn({ err: error, userId }, 'could not record a device in redis; retrying with the next refresh');
      }
    }
  }

  async deviceDisconnected(userId: string, deviceId: string): Promise<void> {
    const devices = this.local.get(userId);
    const connections = devices?.get(deviceId);
    if (!devices || connections === undefined || this.closed) return;
    if (connections > 1) {
      devices.set(deviceId, connections - 1);
      return;
    }
    devices.delete(deviceId);
    if (devices.size === 0) this.local.delete(userId);
    // A TOUCH still waiting for its turn goes first: the leave must reach Redis after the arrival.
    this.arrivals.flush();
    const leave = this.leave(userId, deviceId);
    this.deviceLog.seen(userId, deviceId);
    await this.left(leave, userId, deviceId);
  }

  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    // One round trip whatever the number of users: two lookups per shard, all sent at once.
    const online = new Set<string>();
    const lookups = [...byShard(this.layout, userIds, (id) => id)].map(async ([shard, ids]) => {
      const keys = this.layout.shards[shard]!;
      const [inOnline, inPending] = await Promise.all([this.redis.zmscore(keys.online, ...ids), this.redis.zmscore(keys.pending, ...ids)]);
      ids.forEach((id, i) => {
        if (inOnline[i] !== null || inPending[i] !== null) online.add(id);
      });
    });
    await Promise.all(lookups);
    return new Set(userIds.filter((id) => online.has(id)));
  }

  private cancelGrace(userId: string): void {
    const timer = this.graceTimers.get(userId);
    if (timer) clearTimeout(timer);
    this.graceTimers.delete(userId);
  }

  private scheduleSettle(userId: string, delayMs: number): void {
    if (this.closed) return;
    this.cancelGrace(userId);
    const timer = setTimeout(() => {
      this.graceTimers.delete(userId);
      void this.settle(userId);
    }, delayMs);
    timer.unref();
    this.graceTimers.set(userId, timer);
  }

  /**
   * After the grace of a user whose last device left this process: publishes OFFLINE unless a
   * device came back or someone settled it already (once, whoever calls it). Tried again while
   * Redis does not answer.
   */
  private async settle(userId: string): Promise<void> {
    try {
      const result = Number(await this.redis.eval(SETTLE, ...settleArgs(this.layout, userId, true, this.offlineMarkMs)));
      if (result < 0) this.scheduleSettle(userId, -result);
      if (result > 0) await this.wentOffline(userId, result);
    } catch (error) {
      this.logger.warn({ err: error, userId }, 'could not settle going offline; trying again');
      this.scheduleSettle(userId, this.options.sweepMs);
    }
  }

  private async wentOffline(userId: string, seq: number): Promise<void> {
    const at = new Date();
    try {
      await this.store.setUserLastActiveAt(userId, at);
    } catch (error) {
      this.logger.warn({ err: error, userId }, 'could not store lastActiveAt');
    }
    await this.publish(userId, 'OFFLINE', at, seq);
  }

  private async publish(userId: string, status: PresenceChange['status'], lastActiveAt: Date, seq: number): Promise<void> {
    const change: SequencedPresenceChange = { userId, status, lastActiveAt, seq };
    await this.bus.publish(topics.presence(userId), change);
  }

  /** Refreshes the expiry of every device this process holds (and rewrites any that were lost). */
  private async refresh(): Promise<void> {
    if (this.refreshing || this.closed) return;
    this.refreshing = true;
    try {
      const entries: [string, string][] = [];
      for (const [userId, devices] of this.local) for (const deviceId of devices.keys()) entries.push([userId, deviceId]);
      for (let start = 0; start < entries.length; start += BATCH) {
        const chunk = entries.slice(start, start + BATCH);
        const seqs = await this.touch(chunk);
        await Promise.all(chunk.map(([userId], i) => (seqs[i]! > 0 ? this.publish(userId, 'ONLINE', new Date(), seqs[i]!) : undefined)));
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'could not refresh devices; retrying');
    } finally {
      this.refreshing = false;
    }
  }

  /** Expires the devices of dead processes and settles due graces (presence-sweeper.ts). */
  async sweep(): Promise<void> {
    if (!this.closed) await this.sweeper.sweep();
  }

  /** Stops refreshing; this process's devices leave at once (their graces are settled by the sweepers). */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.refreshTimer);
    clearInterval(this.sweepTimer);
    const leaving: Promise<unknown>[] = [];
    for (const [userId, devices] of this.local) {
      for (const deviceId of devices.keys()) leaving.push(this.leave(userId, deviceId).catch(() => undefined));
    }
    this.closed = true;
    this.local.clear();
    for (const timer of [...this.graceTimers.values(), ...this.retries]) clearTimeout(timer);
    this.graceTimers.clear();
    this.retries.clear();
    await Promise.all(leaving);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
