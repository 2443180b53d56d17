// Presence shared by every process through Redis.
//
// Keys (times are Redis TIME in ms, so the clocks of the processes never matter):
//   presence:devices:{userId}  sorted set: `${deviceId}#${processId}` → expiry. Each process refreshes
//                              its own entries every third of the TTL; a dead process's expire.
//   presence:online            sorted set: userId → the latest expiry among the user's devices.
//   presence:pending           sorted set: userId → when the grace ends (the last device went).
//   presence:seq               the order of the changes published (subscribers drop older ones).
//                              It never falls below Redis TIME in µs, so it survives a data loss.
// A user is ONLINE while in `online` or `pending`. Each transition is one Lua script, so two
// processes never both publish it: ONLINE when a device arrives and the user was in neither set,
// OFFLINE when a due `pending` entry is taken. The process whose device left settles that entry
// after the grace; the sweeper (one process at a time, behind a short lock) settles the entries of
// processes that died, and moves users whose devices all expired from `online` to `pending`.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { EventBus } from './bus.ts';
import { TurnBatch } from '../batching.ts';
import { DeviceLog } from './device-log.ts';
import { type PresenceChange, topics } from './events.ts';
import type { PresenceTracker } from './presence.ts';

/** What is published: a change and its place in the order of all presence changes. */
export type SequencedPresenceChange = PresenceChange & { seq: number };

export const presenceKeys = {
  devices: (userId: string) => `presence:devices:${userId}`,
  online: 'presence:online',
  pending: 'presence:pending',
  seq: 'presence:seq',
  sweepLock: 'presence:sweep-lock',
};

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function nextSeq(key)
  -- Never below the time in microseconds: the order survives Redis losing its data.
  local seq = redis.call('INCR', key)
  local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  if seq < us then
    seq = us
    redis.call('SET', key, string.format('%d', seq))
  end
  return seq
end
`;

/**
 * Devices of this process are (still) connected: KEYS online, pending, seq, then each device's
 * devices key; ARGV ttlMs, then each device's member and userId. Returns, per device, the seq of
 * an ONLINE to publish, or 0. One call refreshes a whole batch: a process holds tens of thousands.
 */
const TOUCH = `${NOW}
local ttl = tonumber(ARGV[1])
local expiry = now + ttl
local seqs = {}
for i = 4, #KEYS do
  local member = ARGV[(i - 4) * 2 + 2]
  local userId = ARGV[(i - 4) * 2 + 3]
  redis.call('ZADD', KEYS[i], expiry, member)
  redis.call('PEXPIRE', KEYS[i], ttl + 60000)
  local added = redis.call('ZADD', KEYS[1], 'GT', expiry, userId)
  local pending = redis.call('ZREM', KEYS[2], userId)
  if added == 1 and pending == 0 then seqs[#seqs + 1] = nextSeq(KEYS[3]) else seqs[#seqs + 1] = 0 end
end
return seqs`;

/**
 * A device of this process left: KEYS devices, online, pending; ARGV member, userId, graceMs.
 * Returns 1 when it was the user's last live device (the grace has started), else 0.
 */
const LEAVE = `${NOW}
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #top > 0 then
  redis.call('ZADD', KEYS[2], 'XX', top[2], ARGV[2])
  return 0
end
if redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
  return 1
end
return 0`;

/**
 * Sweeper: the user's latest expiry has passed. KEYS devices, online, pending; ARGV userId, graceMs.
 * Returns 1 when the user had no live device left (the grace has started from that expiry).
 */
const EXPIRE = `${NOW}
local latest = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not latest then return 0 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #top > 0 then
  redis.call('ZADD', KEYS[2], top[2], ARGV[1])
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], tonumber(latest) + tonumber(ARGV[2]), ARGV[1])
return 1`;

/**
 * The grace of a user may be over: KEYS pending, seq; ARGV userId. Returns the seq of the OFFLINE
 * to publish; 0 when nothing is pending (a device came back); -ms when the grace is not over yet.
 */
const SETTLE = `${NOW}
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due then return 0 end
local left = tonumber(due) - now
if left > 0 then return -math.ceil(left) end
redis.call('ZREM', KEYS[1], ARGV[1])
return nextSeq(KEYS[2])`;

/** Members of a sorted set whose score has passed: KEYS set; ARGV limit. */
const DUE = `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))`;

const BATCH = 500;

export interface RedisPresenceOptions {
  graceMs: number;
  ttlMs: number;
  sweepMs: number;
}

export class RedisPresence implements PresenceTracker {
  readonly kind = 'redis' as const;
  /** Distinguishes this process's entries from another's for the same device. */
  readonly processId = randomUUID();
  private readonly redis: Redis;
  /** userId → deviceId → open connections of this process. */
  private readonly local = new Map<string, Map<string, number>>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private readonly refreshTimer: NodeJS.Timeout;
  private readonly sweepTimer: NodeJS.Timeout;
  private refreshing = false;
  private sweeping = false;
  private closed = false;
  private readonly deviceLog: DeviceLog;
  /** Devices connecting in one turn of the event loop: one TOUCH for all of them. */
  private readonly arrivals: TurnBatch<readonly [userId: string, deviceId: string], number>;

  constructor(
    url: string,
    private readonly bus: EventBus,
    private readonly store: Store,
    private readonly options: RedisPresenceOptions,
    private readonly logger: Logger,
  ) {
    this.redis = new Redis(url, {
      maxRetriesPerRequest: 2,
      retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
    });
    this.redis.on('error', (error) => logger.debug({ err: error }, 'presence redis connection error'));
    this.deviceLog = new DeviceLog(store, logger);
    this.arrivals = new TurnBatch((entries) => this.touch(entries), BATCH);
    this.refreshTimer = setInterval(() => void this.refresh(), Math.max(50, Math.floor(options.ttlMs / 3)));
    this.refreshTimer.unref();
    this.sweepTimer = setInterval(() => void this.sweep(), options.sweepMs);
    this.sweepTimer.unref();
  }

  private member(deviceId: string): string {
    return `${deviceId}#${this.processId}`;
  }

  /**
   * Sends TOUCH for these devices at once (the order of this connection's commands is the order
   * of the calls); resolves with the seq of an ONLINE to publish (or 0) for each.
   */
  private async touch(entries: readonly (readonly [userId: string, deviceId: string])[]): Promise<number[]> {
    const { devices, online, pending, seq } = presenceKeys;
    const keys = [online, pending, seq, ...entries.map(([userId]) => devices(userId))];
    const args = entries.flatMap(([userId, deviceId]) => [this.member(deviceId), userId]);
    const seqs = (await this.redis.eval(TOUCH, keys.length, ...keys, this.options.ttlMs, ...args)) as unknown[];
    return seqs.map(Number);
  }

  private leave(userId: string, deviceId: string): Promise<unknown> {
    const { devices, online, pending } = presenceKeys;
    return this.redis.eval(LEAVE, 3, devices(userId), online, pending, this.member(deviceId), userId, this.options.graceMs);
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
        if (seq > 0) await this.publish(userId, 'ONLINE', new Date(), seq);
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
    const left = this.leave(userId, deviceId);
    this.deviceLog.seen(userId, deviceId);
    try {
      if (Number(await left) === 1) this.scheduleSettle(userId, this.options.graceMs);
    } catch (error) {
      // The entry is no longer refreshed: it expires and the sweeper takes the user offline.
      this.logger.warn({ err: error, userId }, 'could not remove a device from redis; it will expire');
    }
  }

  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const ids = [...userIds];
    // One round trip whatever the number of users.
    const results = await this.redis.pipeline().zmscore(presenceKeys.online, ...ids).zmscore(presenceKeys.pending, ...ids).exec();
    if (!results) throw new Error('presence lookup was aborted');
    const [[onlineError, inOnline], [pendingError, inPending]] = results as [[Error | null, (string | null)[]], [Error | null, (string | null)[]]];
    if (onlineError || pendingError) throw onlineError ?? pendingError;
    return new Set(ids.filter((_id, i) => inOnline[i] !== null || inPending[i] !== null));
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
      void this.settle(userId, true);
    }, delayMs);
    timer.unref();
    this.graceTimers.set(userId, timer);
  }

  /** Takes the user's pending entry when due and publishes OFFLINE (once, whoever calls it). */
  private async settle(userId: string, retryWhenEarly: boolean): Promise<void> {
    try {
      const result = Number(await this.redis.eval(SETTLE, 2, presenceKeys.pending, presenceKeys.seq, userId));
      if (result < 0 && retryWhenEarly) this.scheduleSettle(userId, -result);
      if (result > 0) await this.wentOffline(userId, result);
    } catch (error) {
      // The entry stays pending: the sweeper settles it.
      this.logger.warn({ err: error, userId }, 'could not settle going offline; the sweeper will');
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

  /** Expires the devices of dead processes and settles due graces; one process at a time. */
  async sweep(): Promise<void> {
    if (this.sweeping || this.closed) return;
    this.sweeping = true;
    try {
      // Held for most of an interval: whichever process comes next after it lapses sweeps next.
      const lockMs = Math.max(1, Math.floor(this.options.sweepMs * 0.8));
      const locked = await this.redis.set(presenceKeys.sweepLock, this.processId, 'PX', lockMs, 'NX');
      if (locked !== 'OK') return;
      const { devices, online, pending, seq } = presenceKeys;
      const expired = (await this.redis.eval(DUE, 1, online, BATCH)) as string[];
      if (expired.length > 0) {
        const pipeline = this.redis.pipeline();
        for (const userId of expired) pipeline.eval(EXPIRE, 3, devices(userId), online, pending, userId, this.options.graceMs);
        await pipeline.exec();
      }
      const due = (await this.redis.eval(DUE, 1, pending, BATCH)) as string[];
      if (due.length > 0) {
        const pipeline = this.redis.pipeline();
        for (const userId of due) pipeline.eval(SETTLE, 2, pending, seq, userId);
        const results = (await pipeline.exec()) ?? [];
        await Promise.all(
          results.map(([error, value], i) => {
            const changeSeq = Number(value);
            return !error && changeSeq > 0 ? this.wentOffline(due[i]!, changeSeq) : undefined;
          }),
        );
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'presence sweep failed; retrying');
    } finally {
      this.sweeping = false;
    }
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
    for (const timer of this.graceTimers.values()) clearTimeout(timer);
    this.graceTimers.clear();
    await Promise.all(leaving);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
