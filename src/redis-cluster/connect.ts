// Connections to a Redis Cluster (REDIS_CLUSTER_NODES). Each part (bus, presence, rate limits)
// opens its own ioredis Cluster client, as each opens its own connection to a single Redis; the
// client reads the slot map from the seeds and routes every command to the master of its key's slot.
import { Cluster, type ClusterOptions } from 'ioredis';
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
  const causes = new Map<string, string>();
  const remember = (error: Error, key?: string) => {
    if (key && !causes.has(key)) causes.set(key, connectionFailure(error));
  };
  cluster.on('node error', remember);
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
    const tried = seeds.map((seed) => `${nodeKey(seed)} (${causes.get(nodeKey(seed)) ?? connectionFailure(error as Error)})`);
    throw new Error(`cannot reach the Redis Cluster (REDIS_CLUSTER_NODES): tried ${tried.join(', ')}`);
  } finally {
    clearTimeout(timer);
    cluster.off('node error', remember);
  }
}
