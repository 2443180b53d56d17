// Writes per user per window, by kind (sends, new organizations and channels, invitations,
// membership changes, markers): a flood from one client is refused with RATE_LIMITED before it
// reaches the store. With Redis every process counts against one window per user and kind, so a
// balancer spreading a user over N processes still allows the rate once; the keys,
// `ratelimit:{<userId>}:<kind>`, keep one user's counters in one Redis Cluster slot. Alone, or
// while Redis does not answer, a process counts by itself (rate-limiter-flexible's insurance limiter).
import type { Cluster, Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimit, WriteKind } from '../config.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export interface RateLimiter {
  /** Counts a write by the user, or throws RATE_LIMITED with when to try again. */
  take(userId: string): Promise<void>;
}

/** One limiter per kind of write, and the connection they share. */
export type RateLimits = Record<WriteKind, RateLimiter> & { close(): Promise<void> };

/** What a refusal says was too many. */
const COUNTED: Record<WriteKind, string> = {
  send: 'messages',
  organization: 'new organizations',
  channel: 'new channels',
  invitation: 'invitations and answers to them',
  membership: 'membership changes',
  marker: 'read and delivery marker moves',
  push: 'push registrations and removals',
};

const KEY_PREFIX = 'ratelimit';

class UserRateLimiter implements RateLimiter {
  constructor(
    private readonly kind: WriteKind,
    private readonly counter: RateLimiterAbstract,
  ) {}

  async take(userId: string): Promise<void> {
    try {
      await this.counter.consume(`{${userId}}:${this.kind}`);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      throw AppError.rateLimited(Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)), COUNTED[this.kind]);
    }
  }
}

/** A fixed window per user, in this process's memory. */
const inMemory = ({ points, windowMs }: RateLimit) =>
  new RateLimiterMemory({ keyPrefix: KEY_PREFIX, points, duration: windowMs / 1000 });

function limitsOf(
  rates: Record<WriteKind, RateLimit>,
  counter: (rate: RateLimit) => RateLimiterAbstract,
  close: () => Promise<void>,
): RateLimits {
  const of = (kind: WriteKind) => new UserRateLimiter(kind, counter(rates[kind]));
  return {
    send: of('send'),
    organization: of('organization'),
    channel: of('channel'),
    invitation: of('invitation'),
    membership: of('membership'),
    marker: of('marker'),
    push: of('push'),
    close,
  };
}

/** The limits counted by this process alone. */
export function localRateLimits(rates: Record<WriteKind, RateLimit>): RateLimits {
  return limitsOf(rates, inMemory, async () => {});
}

/** The options of the limits' own connection: no offline queue and a short timeout, as a write must not wait for Redis to come back. */
export const RATE_LIMIT_REDIS_OPTIONS = {
  enableOfflineQueue: false,
  // Every write consumes a point: the checks of writes arriving together go out in one write
  // to Redis (one syscall each cost a tenth of a send's CPU).
  enableAutoPipelining: true,
  commandTimeout: 500,
  maxRetriesPerRequest: 1,
  retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
};

/**
 * The limits counted through Redis (one Redis, or a cluster: each counter is one key, so one slot)
 * on a connection of their own; while Redis cannot answer, by each process alone.
 */
export function redisRateLimits(redis: Redis | Cluster, rates: Record<WriteKind, RateLimit>, logger: Logger): RateLimits {
  // A connection handed over connected already (a cluster's is) has said 'ready' before.
  let shared = redis.status === 'ready';
  if (shared) logger.info('rate limits: shared through Redis');
  let closing = false;
  redis.on('error', (error) => logger.debug({ err: error }, 'rate limit redis connection error'));
  redis.on('ready', () => {
    if (!shared) logger.info('rate limits: shared through Redis');
    shared = true;
  });
  redis.on('close', () => {
    // Refusing every write while Redis is away would hurt more than per-process limits for a while.
    if (shared && !closing) logger.warn('rate limits: Redis does not answer; counting in this process meanwhile');
    shared = false;
  });
  const counter = (rate: RateLimit) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: KEY_PREFIX,
      points: rate.points,
      duration: rate.windowMs / 1000,
      rejectIfRedisNotReady: true,
      insuranceLimiter: inMemory(rate),
    });
  return limitsOf(rates, counter, async () => {
    closing = true;
    redis.disconnect();
  });
}
