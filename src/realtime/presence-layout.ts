// Where presence lives in Redis. Every script of presence-scripts.ts touches the user's own keys
// and the sets of the user's shard (who is online, whose grace runs, the order of changes), so on
// a Redis Cluster all of them must share one slot: each shard's keys and its users' keys carry the
// shard's hash tag, `{p<n>}`. A single Redis has one shard under the original key names.
//
// Shards spread the cross-user sets over the cluster's masters; the sweeper visits every shard,
// so it covers every master. The number is fixed: every process must agree on a user's shard.

/** The sets a shard's scripts share. */
export interface PresenceShard {
  /** sorted set: userId → the latest expiry among the user's devices. */
  online: string;
  /** sorted set: userId → when the grace ends (the last device went). */
  pending: string;
  /** the order of the changes published for the shard's users (subscribers drop older ones per user). */
  seq: string;
}

export interface PresenceLayout {
  readonly shards: readonly PresenceShard[];
  shardOf(userId: string): number;
  /** sorted set: `${deviceId}#${processId}` → expiry. */
  devices(userId: string): string;
  /** set for a while once OFFLINE has been published for the user. */
  offline(userId: string): string;
  /** Held by the process sweeping, for most of an interval. */
  readonly sweepLock: string;
}

/** The original key names: one Redis, one shard. */
export const singleNodeLayout: PresenceLayout = {
  shards: [{ online: 'presence:online', pending: 'presence:pending', seq: 'presence:seq' }],
  shardOf: () => 0,
  devices: (userId) => `presence:devices:${userId}`,
  offline: (userId) => `presence:offline:${userId}`,
  sweepLock: 'presence:sweep-lock',
};

/** Shards on a cluster: enough to spread over a few dozen masters, few enough to sweep each interval. */
export const CLUSTER_SHARDS = 64;

/** FNV-1a of the id's UTF-16 units: stable across processes and versions. */
function shardNumber(userId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % CLUSTER_SHARDS;
}

const tag = (shard: number) => `{p${shard}}`;

export const clusterLayout: PresenceLayout = {
  shards: Array.from({ length: CLUSTER_SHARDS }, (_, n) => ({
    online: `presence:${tag(n)}:online`,
    pending: `presence:${tag(n)}:pending`,
    seq: `presence:${tag(n)}:seq`,
  })),
  shardOf: shardNumber,
  devices: (userId) => `presence:${tag(shardNumber(userId))}:devices:${userId}`,
  offline: (userId) => `presence:${tag(shardNumber(userId))}:offline:${userId}`,
  sweepLock: 'presence:sweep-lock',
};

/** Items grouped by the shard of each one's user, in their order within each shard. */
export function byShard<T>(layout: PresenceLayout, items: readonly T[], userOf: (item: T) => string): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const shard = layout.shardOf(userOf(item));
    const group = groups.get(shard);
    if (group) group.push(item);
    else groups.set(shard, [item]);
  }
  return groups;
}
