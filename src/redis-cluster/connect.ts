// Connections to a Redis Cluster (REDIS_CLUSTER_NODES). Each part (bus, presence, rate limits)
// opens its own ioredis Cluster client, as each opens its own connection to a single Redis; the
// client reads the slot map from the seeds and routes every command to the master of its key's slot.
import { Cluster, type ClusterOptions, Redis } from 'ioredis';
import type { RedisNode } from '../config.ts';
import { connectionFailure } from '../realtime/redis-bus.ts';

const nodeKey = ({ host, port }: RedisNode) => `${host}:${port}`;

/** How long start-up waits for the cluster's map before it gives up. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A Cluster client for the seeds. Defaults for every part: a failover is followed quickly (the
 * map is read again every second and after any MOVED or lost node), and a lost cluster is
 * reconnected with a backoff of at most a second.
 */
export function clusterClient(seeds: RedisNode[], options: ClusterOptions = {}): Cluster {
  return new Cluster(
    seeds.map((seed) => ({ ...seed })),
    {
      lazyConnect: true,
      clusterRetryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
      slotsRefreshInterval: 1000,
      slotsRefreshTimeout: 1000,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      ...options,
      redisOptions: { connectTimeout: 2000, ...options.redisOptions },
    },
  );
}

/**
 * Connects the client and reads the slot map; fails in one sentence naming each seed tried and
 * why it did not answer (refused, not a cluster node, no answer in time).
 */
export async function connectCluster(cluster: Cluster, seeds: RedisNode[]): Promise<void> {
  // Per seed what it answered (not a cluster node, say); a refusal reaches no listener of the cluster's.
  const causes = new Map<string, Error>();
  const remember = (error: Error, key?: string) => {
    if (key) causes.set(key, error);
  };
  const ignore = () => {}; // the same failure, in `causes`; without a listener ioredis prints it
  cluster.on('node error', remember);
  cluster.on('error', ignore);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      cluster.connect(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no usable slot map within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    cluster.disconnect();
    const reasons = await Promise.all(
      seeds.map(async (seed) => {
        const cause = causes.get(nodeKey(seed));
        if (cause && cause.message !== CLOSED) return connectionFailure(cause);
        return (await probe(seed)) ?? connectionFailure(cause ?? (error as Error));
      }),
    );
    const tried = seeds.map((seed, i) => `${nodeKey(seed)} (${reasons[i]})`);
    throw new Error(`cannot reach the Redis Cluster (REDIS_CLUSTER_NODES): tried ${tried.join(', ')}`);
  } finally {
    clearTimeout(timer);
    cluster.off('node error', remember);
    cluster.off('error', ignore);
  }
}

/** What ioredis says of a node connection that failed, whatever the cause. */
const CLOSED = 'Connection is closed.';

/** Why a seed cannot be connected to, in the network's words (refused, timed out); undefined when it can. */
async function probe(seed: RedisNode): Promise<string | undefined> {
  const redis = new Redis({ ...seed, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2000 });
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (cause ??= error));
  try {
    await redis.connect();
    return undefined;
  } catch (error) {
    return connectionFailure(cause ?? (error as Error));
  } finally {
    redis.disconnect();
  }
}
