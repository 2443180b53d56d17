// Connects the long-lived parts of a process as the configuration says: the store (SQLite or
// MongoDB), the bus (in-process or Redis), feeds and presence. Unreachable services fail here.
import { ViewerResolver } from './auth/viewer.ts';
import type { Config } from './config.ts';
import type { AppDeps } from './context.ts';
import type { Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { PushService } from './push/service.ts';
import { type EventBus, InProcessBus } from './realtime/bus.ts';
import { ChannelFeeds } from './realtime/feeds.ts';
import { InProcessPresence, type PresenceTracker } from './realtime/presence.ts';
import { Redis } from 'ioredis';
import { clusterLayout, singleNodeLayout } from './realtime/presence-layout.ts';
import { RedisBus } from './realtime/redis-bus.ts';
import { RedisPresence } from './realtime/redis-presence.ts';
import { type ClusterClients, connectClusterClients } from './redis-cluster/clients.ts';
import { ShardedBus } from './redis-cluster/sharded-bus.ts';
import { RATE_LIMIT_REDIS_OPTIONS, type RateLimits, localRateLimits, redisRateLimits } from './services/rate-limit.ts';
import { SqliteStore } from './store/sqlite/sqlite-store.ts';
import { instrumentStore } from './store/instrumented.ts';
import type { Store } from './store/store.ts';

async function openStore(config: Config): Promise<Store> {
  if (config.mongodbUrl) {
    const { openMongoStore } = await import('./store/mongo/open.ts');
    const { timeoutMs, indexBuildWaitMs, sharded } = config.mongodb;
    return openMongoStore(config.mongodbUrl, { timeoutMs, indexBuildWaitMs, sharded });
  }
  try {
    return new SqliteStore(config.sqlitePath);
  } catch (error) {
    throw new Error(`cannot open the SQLite file ${config.sqlitePath} (SQLITE_PATH): ${fileFailure(error as NodeJS.ErrnoException)}`);
  }
}

/** Why a file or its folder cannot be opened, in words for the usual causes. */
function fileFailure(error: NodeJS.ErrnoException): string {
  if (error.code === 'EACCES' || error.code === 'EPERM') return `permission denied (${error.message})`;
  if (error.code === 'EEXIST' || error.code === 'ENOTDIR') return `a part of the path is a file, not a folder (${error.message})`;
  return error.message;
}

/** The bus: in-process, Redis pub/sub, or a Redis Cluster's sharded pub/sub (the one to fail when Redis is out of reach). */
async function openBus(config: Config, logger: Logger): Promise<EventBus> {
  if (config.redisClusterNodes) return ShardedBus.connect(config.redisClusterNodes, logger);
  return config.redisUrl ? RedisBus.connect(config.redisUrl, logger) : new InProcessBus();
}

/** Presence of this process alone, or (with Redis) shared by every process on its own connection. */
function createPresence(config: Config, bus: EventBus, store: Store, logger: Logger, cluster?: ClusterClients): PresenceTracker {
  const options = { graceMs: config.presenceGraceMs, ttlMs: config.presenceTtlMs, sweepMs: config.presenceSweepMs };
  if (cluster) return new RedisPresence(cluster.presence, clusterLayout, bus, store, options, logger);
  if (config.redisUrl) {
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000) });
    return new RedisPresence(redis, singleNodeLayout, bus, store, options, logger);
  }
  return new InProcessPresence(bus, store, config.presenceGraceMs, logger);
}

/** The write rates counted by every process through Redis, or by this process alone. */
function createRateLimits(config: Config, logger: Logger, cluster?: ClusterClients): RateLimits {
  const { rates } = config.limits;
  if (cluster) return redisRateLimits(cluster.rateLimits, rates, logger);
  return config.redisUrl ? redisRateLimits(new Redis(config.redisUrl, RATE_LIMIT_REDIS_OPTIONS), rates, logger) : localRateLimits(rates);
}

/**
 * Opens everything a server process needs (with an already opened store when given one);
 * closes what was opened when a later part fails.
 */
export async function connectDeps(config: Config, logger: Logger, given?: Store): Promise<AppDeps> {
  const metrics = createMetrics();
  const opened = given ?? (await openStore(config));
  const store = instrumentStore(opened, metrics.registry);
  let bus: EventBus;
  let cluster: ClusterClients | undefined;
  try {
    bus = await openBus(config, logger);
    if (config.redisClusterNodes) cluster = await connectClusterClients(config.redisClusterNodes).catch(async (error: unknown) => {
      await bus.close();
      throw error;
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const rateLimits = createRateLimits(config, logger.child({ part: 'rate-limit' }), cluster);
  const presence = createPresence(config, bus, store, logger.child({ part: 'presence' }), cluster);
  return {
    config,
    logger,
    store,
    bus,
    feeds: new ChannelFeeds(bus, store, config.feedGapFillMs, logger.child({ part: 'feeds' })),
    presence,
    push: new PushService(
      instrumentStore(opened, metrics.registry, 'chat_push_store'),
      presence,
      config.push,
      metrics.push,
      logger.child({ part: 'push' }),
    ),
    viewers: new ViewerResolver(store, config.jwtSecret, { allowWithoutExpiry: config.allowTokensWithoutExpiry }),
    rateLimits,
    metrics,
  };
}

/** Closes what connectDeps opened, the outermost first. */
export async function closeDeps(deps: AppDeps): Promise<void> {
  await deps.push.close();
  await deps.presence.close();
  await deps.rateLimits.close();
  await deps.feeds.close();
  await deps.bus.close();
  await deps.store.close();
}
