// Messages per user per window: a flood from one client is refused with RATE_LIMITED before it
// reaches the store. With Redis every process counts against one window per user, so a balancer
// spreading a user over N processes still allows the rate once; alone, a process counts by itself.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface SendRateLimiter {
  /** Counts a send by the user, or throws RATE_LIMITED with when to try again. */
  take(userId: string): Promise<void>;
  close(): Promise<void>;
}

const refusal = (waitMs: number) => AppError.rateLimited(Math.max(1, Math.ceil(waitMs / 1000)));

/** A sliding window per user, in this process's memory. */
export class LocalSendRateLimiter implements SendRateLimiter {
  private readonly sends = new Map<string, number[]>();

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  async take(userId: string): Promise<void> {
    const now = Date.now();
    const since = now - this.windowMs;
    const times = (this.sends.get(userId) ?? []).filter((t) => t > since);
    if (times.length >= this.perWindow) throw refusal(times[0]! + this.windowMs - now);
    times.push(now);
    this.sends.set(userId, times);
    if (this.sends.size > 100_000) this.forgetIdle(since);
  }

  private forgetIdle(since: number): void {
    for (const [userId, times] of this.sends) if ((times.at(-1) ?? 0) <= since) this.sends.delete(userId);
  }

  async close(): Promise<void> {}
}

/**
 * One user's window as a sorted set of send times, on Redis's clock (the processes' clocks may
 * differ). Answers 0 and counts the send, or answers how many ms until the oldest send leaves.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
`;

/** The window shared through Redis; while Redis cannot answer, each process counts alone. */
export class RedisSendRateLimiter implements SendRateLimiter {
  private readonly redis: Redis;
  private readonly alone: LocalSendRateLimiter;
  private outage = false;

  constructor(
    url: string,
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly logger: Logger,
  ) {
    // No offline queue and a short timeout: a send must not wait for Redis to come back.
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      commandTimeout: 500,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
    });
    this.redis.on('error', (error) => logger.debug({ err: error }, 'rate limit redis connection error'));
    this.alone = new LocalSendRateLimiter(perWindow, windowMs);
  }

  async take(userId: string): Promise<void> {
    let waitMs: number;
    try {
      waitMs = Number(await this.redis.eval(TAKE, 1, `ratelimit:send:${userId}`, this.windowMs, this.perWindow, randomUUID()));
    } catch (error) {
      // Refusing every send while Redis is away would hurt more than a per-process limit for a while.
      if (!this.outage) this.logger.warn({ err: error }, 'send rate limit: Redis did not answer; counting in this process meanwhile');
      this.outage = true;
      return this.alone.take(userId);
    }
    if (this.outage) this.logger.info('send rate limit: shared through Redis again');
    this.outage = false;
    if (waitMs > 0) throw refusal(waitMs);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
