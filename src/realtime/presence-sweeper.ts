// The sweeper of presence on Redis: every process runs one, and one at a time (behind a short
// lock) expires the devices of processes that died and settles the graces that are due, on every
// shard. The OFFLINEs it settles are published by the process that runs it (redis-presence.ts).
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import type { PresenceLayout } from './presence-layout.ts';
import { DUE, EXPIRE, SETTLE } from './presence-scripts.ts';

/** Users expired, and graces settled, per script call. */
export const SWEEP_BATCH = 500;

/** The SETTLE of a user: KEYS and ARGV after the script; `owned` when the caller saw the last device leave. */
export function settleArgs(
  layout: PresenceLayout,
  userId: string,
  owned: boolean,
  offlineMarkMs: number,
): [keys: number, ...keysAndArgs: (string | number)[]] {
  const { online, pending, seq } = layout.shards[layout.shardOf(userId)]!;
  return [4, pending, seq, layout.offline(userId), online, userId, owned ? 1 : 0, offlineMarkMs];
}

export interface SweeperOptions {
  processId: string;
  graceMs: number;
  sweepMs: number;
  offlineMarkMs: number;
}

export class PresenceSweeper {
  private sweeping = false;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly layout: PresenceLayout,
    private readonly options: SweeperOptions,
    /** Publishes the OFFLINE of a user whose grace this sweep settled, with its seq. */
    private readonly wentOffline: (userId: string, seq: number) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /** One sweep, unless one is under way here or another process holds the lock. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      // Held for most of an interval: whichever process comes next after it lapses sweeps next.
      const lockMs = Math.max(1, Math.floor(this.options.sweepMs * 0.8));
      const locked = await this.redis.set(this.layout.sweepLock, this.options.processId, 'PX', lockMs, 'NX');
      if (locked !== 'OK') return;
      // Every shard, so every master of a cluster: their scripts are all sent at once.
      await Promise.all(this.layout.shards.map((shard) => this.sweepShard(shard.online, shard.pending)));
    } catch (error) {
      this.logger.warn({ err: error }, 'presence sweep failed; retrying');
    } finally {
      this.sweeping = false;
    }
  }

  private async sweepShard(online: string, pending: string): Promise<void> {
    const expired = (await this.redis.eval(DUE, 1, online, SWEEP_BATCH)) as string[];
    const { devices } = this.layout;
    const expire = (userId: string) => this.redis.eval(EXPIRE, 3, devices(userId), online, pending, userId, this.options.graceMs);
    // One user's failure leaves the others' to run; it is tried again next sweep.
    await Promise.all(expired.map((userId) => expire(userId).catch(() => undefined)));
    const due = (await this.redis.eval(DUE, 1, pending, SWEEP_BATCH)) as string[];
    await Promise.all(
      due.map(async (userId) => {
        const args = settleArgs(this.layout, userId, false, this.options.offlineMarkMs);
        const changeSeq = Number(await this.redis.eval(SETTLE, ...args).catch(() => 0));
        if (changeSeq > 0) await this.wentOffline(userId, changeSeq);
      }),
    );
  }
}
