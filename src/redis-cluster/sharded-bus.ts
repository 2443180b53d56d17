// The event bus on a Redis Cluster's sharded pub/sub (SPUBLISH / SSUBSCRIBE, Redis 7). Classic
// PUBLISH is broadcast by the cluster bus to every node, so each message would cost every shard;
// a sharded topic lives only on the shard that owns its slot. (graphql-redis-subscriptions, which
// the single-node bus uses, speaks only SUBSCRIBE / PUBLISH, hence this bus of its own.)
//
// A process holds ONE subscription per topic, however many local listeners, on a connection to
// the master that owns the topic's slot (shard-subscriber.ts). When that connection is lost or the
// slot moves (a failover, a resharding) the topic is subscribed again on the new owner; once every
// topic is in force again the feeds read what they missed from the store, as after an outage of
// the single-node bus. Like that bus, publishing is at-most-once: a failed publish of a message is
// kept and tried again, the feeds put whatever comes late in order and drop what comes twice.
import calculateSlot from 'cluster-key-slot';
import type { Cluster } from 'ioredis';
import type { RedisNode } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { EventBus, Unsubscribe } from '../realtime/bus.ts';
import type { Topic } from '../realtime/events.ts';
import { deserialize, serialize } from '../realtime/redis-bus.ts';
import { Unpublished, isRepeatable } from '../realtime/unpublished.ts';
import { clusterClient, connectCluster } from './connect.ts';
import { MasterProbe } from './probe.ts';
import { ShardSubscriber } from './shard-subscriber.ts';

/** How soon a topic whose subscription was lost is placed again, at first and at most. */
const REPAIR_DELAY_MS = 100;
const REPAIR_DELAY_MAX_MS = 250;

interface TopicState {
  readonly name: string;
  readonly slot: number;
  readonly handlers: Set<(payload: unknown) => void>;
  /** The master this process's SSUBSCRIBE went to (null: none yet). */
  node: string | null;
  /** That master answered it and still holds it: what is published on the topic reaches us. */
  inForce: boolean;
  /** The first placement, which the first subscriber waits for. */
  placed: Promise<void>;
}

export class ShardedBus implements EventBus {
  readonly kind = 'redis-cluster' as const;
  private readonly topics = new Map<string, TopicState>();
  private readonly subscribers = new Map<string, ShardSubscriber>();
  private readonly reconnectListeners: (() => void)[] = [];
  /** Messages whose publish failed, published again once some master answers. */
  private readonly unpublished: Unpublished<string>;
  /** A subscription was lost since every topic was last in force: the feeds must catch up. */
  private lost = false;
  private repairTimer: NodeJS.Timeout | null = null;
  private repairDelayMs = REPAIR_DELAY_MS;
  private repairing: Promise<void> | null = null;
  private readonly probe: MasterProbe;
  private closing = false;

  private constructor(
    /** Publishes, and knows which master owns which slot. */
    private readonly cluster: Cluster,
    private readonly logger: Logger,
  ) {
    // The map is read again every second and after any MOVED or lost node: a topic whose slot
    // now has another owner is moved there.
    cluster.on('refresh', () => {
      for (const topic of this.topics.values()) if (topic.node !== this.ownerOf(topic)) return this.scheduleRepair(0);
    });
    cluster.on('error', (error) => logger.debug({ err: error }, 'redis cluster error'));
    cluster.on('node error', (error, node) => logger.debug({ err: error, node }, 'redis cluster node error'));
    this.probe = new MasterProbe(cluster, logger);
    this.unpublished = new Unpublished({
      publish: async (topic, text) => void (await cluster.spublish(topic, text)),
      canPublish: () => this.probe.reachable,
      logger,
    });
  }

  /** Connects to the cluster; fails fast, naming the seeds tried and why, when it cannot be reached. */
  static async connect(seeds: RedisNode[], logger: Logger): Promise<ShardedBus> {
    // No offline queue, and few retries while a master fails over (6 × 100 ms): a publish fails
    // soon (the message is stored; it is published again, and feeds catch up) rather than hold up
    // the sender's mutation for the whole failover.
    // Publishes issued in one turn go out in one write per master, as the single-node bus's do.
    const cluster = clusterClient(seeds, {
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      maxRedirections: 6,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      redisOptions: { maxRetriesPerRequest: 1 },
    });
    await connectCluster(cluster, seeds);
    return new ShardedBus(cluster, logger);
  }

  private ownerOf(topic: TopicState): string | null {
    return this.cluster.slots[topic.slot]?.[0] ?? null;
  }

  async publish<P>(topic: Topic<P>, payload: P): Promise<void> {
    const text = serialize(payload);
    await this.unpublished.publish(topic.name, text, isRepeatable(payload));
  }

  async subscribe<P>(topic: Topic<P>, onEvent: (payload: P) => void): Promise<Unsubscribe> {
    const handler = onEvent as (payload: unknown) => void;
    let state = this.topics.get(topic.name);
    if (!state) {
      const created: TopicState = { name: topic.name, slot: calculateSlot(topic.name), handlers: new Set(), node: null, inForce: false, placed: Promise.resolve() };
      created.placed = this.place(created).catch((error: unknown) => this.placementFailed(created, error));
      state = created;
      this.topics.set(topic.name, created);
    }
    state.handlers.add(handler);
    await state.placed;
    const subscribed = state;
    return async () => {
      if (!subscribed.handlers.delete(handler) || subscribed.handlers.size > 0) return;
      if (this.topics.get(subscribed.name) === subscribed) this.topics.delete(subscribed.name);
      const node = subscribed.node;
      subscribed.node = null;
      subscribed.inForce = false;
      if (node) await this.subscribers.get(node)?.unsubscribe(subscribed.name);
    };
  }

  /** Subscribes the topic on the master that owns its slot now. */
  private async place(topic: TopicState): Promise<void> {
    const owner = this.ownerOf(topic);
    if (!owner) throw new Error(`no master owns slot ${topic.slot}`);
    const previous = topic.node;
    if (previous && previous !== owner) void this.subscribers.get(previous)?.unsubscribe(topic.name);
    topic.node = owner;
    topic.inForce = false;
    let subscriber = this.subscribers.get(owner);
    if (!subscriber) {
      subscriber = new ShardSubscriber(owner, { message: (node, name, text) => this.deliver(node, name, text), lost: (node) => this.connectionLost(node) }, this.logger);
      this.subscribers.set(owner, subscriber);
    }
    await subscriber.subscribe(topic.name);
    const current = this.topics.get(topic.name);
    if (current === topic && topic.node === owner) topic.inForce = true;
    // Its last listener left while the answer was on its way (the SUNSUBSCRIBE then may not have
    // been sent): nobody listens here any more, unless the topic was subscribed again meanwhile.
    else if (current?.node !== owner) await subscriber.unsubscribe(topic.name);
  }

  private placementFailed(topic: TopicState, error: unknown): void {
    if (this.closing || this.topics.get(topic.name) !== topic) return;
    this.logger.debug({ err: error, topic: topic.name }, 'could not subscribe to a sharded topic; trying again');
    this.markLost();
    this.scheduleRepair(this.repairDelayMs);
  }

  private deliver(node: string, name: string, text: string): void {
    const topic = this.topics.get(name);
    // A message from the topic's former master (a move in flight) is left out: the new one's counts.
    if (!topic || topic.node !== node) return;
    let payload: unknown;
    try {
      payload = deserialize(text);
    } catch (error) {
      this.logger.warn({ err: error, topic: name }, 'ignored a payload that is not JSON');
      return;
    }
    for (const handler of [...topic.handlers]) handler(payload);
  }

  private connectionLost(node: string): void {
    if (this.closing) return;
    let held = false;
    for (const topic of this.topics.values()) {
      if (topic.node === node) {
        topic.inForce = false;
        held = true;
      }
    }
    if (!held) return;
    this.markLost();
    this.scheduleRepair(0);
  }

  private markLost(): void {
    if (this.lost) return;
    this.lost = true;
    this.logger.warn('redis cluster: sharded subscriptions lost; resubscribing on the masters that own their slots');
  }

  private scheduleRepair(delayMs: number): void {
    if (this.closing) return;
    // A repair wanted now (the map changed) does not wait for one backing off.
    if (this.repairTimer && delayMs > 0) return;
    if (this.repairTimer) clearTimeout(this.repairTimer);
    this.repairTimer = setTimeout(() => {
      this.repairTimer = null;
      void this.repair();
    }, delayMs);
    this.repairTimer.unref();
  }

  /** Reads the slot map again and subscribes every topic that is not in force on its owner. */
  private async repair(): Promise<void> {
    if (this.repairing) return this.repairing.then(() => this.scheduleRepair(0));
    this.repairing = (async () => {
      await new Promise<void>((resolve) => this.cluster.refreshSlotsCache(() => resolve()));
      const stale = [...this.topics.values()].filter((topic) => !topic.inForce || topic.node !== this.ownerOf(topic));
      if (stale.length > 0) this.markLost();
      const results = await Promise.allSettled(stale.map((topic) => this.place(topic)));
      this.closeUnused();
      if (this.closing) return;
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed || [...this.topics.values()].some((topic) => !topic.inForce)) {
        this.logger.debug({ err: failed?.reason }, 'sharded subscriptions not all back yet');
        this.repairDelayMs = Math.min(this.repairDelayMs * 2, REPAIR_DELAY_MAX_MS);
        this.scheduleRepair(this.repairDelayMs);
        return;
      }
      this.repairDelayMs = REPAIR_DELAY_MS;
      if (!this.lost) return;
      this.lost = false;
      this.logger.info('redis cluster: sharded subscriptions back; channel feeds catch up from the store');
      for (const listener of this.reconnectListeners) listener();
    })();
    try {
      await this.repairing;
    } finally {
      this.repairing = null;
    }
  }

  /** Closes the connections to masters that no topic is subscribed on any more (a failed master). */
  private closeUnused(): void {
    const used = new Set([...this.topics.values()].map((topic) => topic.node));
    for (const [node, subscriber] of this.subscribers) {
      if (used.has(node)) continue;
      this.subscribers.delete(node);
      void subscriber.close();
    }
  }

  onReconnect(fn: () => void): void {
    this.reconnectListeners.push(fn);
  }

  /** Down while no master answers, or from a lost subscription until every topic is in force again. */
  isHealthy(): boolean {
    return !this.closing && this.probe.reachable && !this.lost && this.cluster.status === 'ready';
  }

  async close(): Promise<void> {
    this.closing = true;
    this.probe.stop();
    this.unpublished.close();
    if (this.repairTimer) clearTimeout(this.repairTimer);
    await Promise.all([...this.subscribers.values()].map((subscriber) => subscriber.close()));
    this.subscribers.clear();
    this.cluster.disconnect();
  }
}
