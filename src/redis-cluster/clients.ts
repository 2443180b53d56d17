// The cluster connections of presence and of the rate limits, each its own Cluster client as each
// has its own connection to a single Redis. Neither queues a command while the cluster is away, and
// both give up soon while a master fails over: a device connecting, a presence query or a write's
// counter must not wait for the cluster to come back (presence retries with its next refresh; the
// rate limits count in the process meanwhile).
import type { Cluster } from 'ioredis';
import type { RedisNode } from '../config.ts';
import { RATE_LIMIT_REDIS_OPTIONS } from '../services/rate-limit.ts';
import { clusterClient, connectCluster } from './connect.ts';

export interface ClusterClients {
  presence: Cluster;
  rateLimits: Cluster;
}

/** Connects both (the bus has just reached the cluster, so a failure here is a start-up error too). */
export async function connectClusterClients(seeds: RedisNode[]): Promise<ClusterClients> {
  // The default, 16 redirections 200 ms apart, would hold a command for the whole failover.
  const soon = { enableOfflineQueue: false, maxRedirections: 4, retryDelayOnFailover: 100, retryDelayOnClusterDown: 100 };
  const presence = clusterClient(seeds, { ...soon, redisOptions: { maxRetriesPerRequest: 2 } });
  const { commandTimeout, maxRetriesPerRequest, enableAutoPipelining } = RATE_LIMIT_REDIS_OPTIONS;
  // As on one Redis, the checks of writes arriving together go out in one write per master.
  const rateLimits = clusterClient(seeds, { ...soon, enableAutoPipelining, redisOptions: { commandTimeout, maxRetriesPerRequest } });
  try {
    await Promise.all([connectCluster(presence, seeds), connectCluster(rateLimits, seeds)]);
  } catch (error) {
    presence.disconnect();
    rateLimits.disconnect();
    throw error;
  }
  return { presence, rateLimits };
}
