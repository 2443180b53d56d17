// The Redis bus with channel feeds, as two processes use it: each has its own bus and feeds, they
// share one real Redis and one SQLite file. Includes Redis going away and coming back.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/domain/types.ts';
import { createLogger } from '../../src/logger.ts';
import { type UserEvent, topics } from '../../src/realtime/events.ts';
import { ChannelFeeds } from '../../src/realtime/feeds.ts';
import { RedisBus, deserialize, serialize } from '../../src/realtime/redis-bus.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { quietFor } from '../support/client.ts';
import { type TestRedis, startRedis } from '../support/redis.ts';
import { tempDir } from '../support/server.ts';
import { type TcpProxy, startTcpProxy } from '../support/tcp-proxy.ts';
import { seqsUpTo, waitUntil } from '../support/wait.ts';
import { draft, organization, user } from '../store/fixtures.ts';

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

/** One server process's realtime part: its own Redis connections and feeds, on the shared store. */
interface Node {
  bus: RedisBus;
  feeds: ChannelFeeds;
}

let redis: TestRedis;
let temp: ReturnType<typeof tempDir>;
let store: SqliteStore;
let authorId: string;
let nodes: Node[] = [];
let inspector: Redis;

beforeAll(async () => {
  redis = await startRedis();
  temp = tempDir();
  store = new SqliteStore(`${temp.dir}/chat.db`);
  authorId = (await user(store, 'ann')).id;
  inspector = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: null });
  inspector.on('error', () => {}); // it reconnects by itself after the outage test
  await inspector.connect();
});
afterAll(async () => {
  for (const node of nodes) {
    await node.feeds.close();
    await node.bus.close();
  }
  inspector?.disconnect();
  await store?.close();
  await redis?.stop();
  temp?.remove();
});

/** A process's realtime part; with a proxy, its connections to Redis go through it (to be cut). */
async function startNode(gapFillMs = 50, proxy?: TcpProxy): Promise<Node> {
  const url = proxy ? `redis://127.0.0.1:${proxy.port}${new URL(redis.url).pathname}` : redis.url;
  const bus = await RedisBus.connect(url, logger);
  const node = { bus, feeds: new ChannelFeeds(bus, store, gapFillMs, logger) };
  nodes.push(node);
  return node;
}

async function newChannel(): Promise<string> {
  return (await organization(store, authorId)).general.id;
}

async function storeMessages(channelId: string, n: number): Promise<Message[]> {
  const stored: Message[] = [];
  for (let i = 0; i < n; i++) stored.push((await store.appendMessage(draft(channelId, authorId, `m${i}`))).message);
  return stored;
}

function collector() {
  const received: Message[] = [];
  return { received, seqs: () => received.map((m) => m.seq), listener: received };
}

/** How many connections Redis says listen to the topic. */
async function redisSubscribers(topicName: string): Promise<number> {
  const reply = (await inspector.call('PUBSUB', 'NUMSUB', topicName)) as [string, number];
  return Number(reply[1]);
}

describe('the Redis event bus', () => {
  it('keeps Dates across the wire and leaves date-like text alone', () => {
    const payload = { at: new Date(Date.UTC(2026, 1, 2, 3, 4, 5, 6)), text: '2026-02-02T03:04:05.006Z', list: [new Date(0)], none: null };
    const back = deserialize(serialize(payload)) as typeof payload;
    expect(back).toEqual(payload);
    expect(back.at).toBeInstanceOf(Date);
    expect(typeof back.text).toBe('string');
  });

  it('carries a channel message from one process to another, Dates and all', async () => {
    const [a, b] = [await startNode(), await startNode()];
    const channelId = await newChannel();
    const bob = collector();
    await b.feeds.attach(channelId, bob.listener);
    const [message] = await storeMessages(channelId, 1);
    await a.bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: message! });
    await waitUntil(() => bob.received.length >= 1, 'the message on the other process');
    expect(bob.received[0]).toEqual(message);
    expect(bob.received[0]!.sentAt).toBeInstanceOf(Date);
  });

  it('ignores what is not a message on a channel topic and keeps delivering', async () => {
    const node = await startNode();
    const channelId = await newChannel();
    const bob = collector();
    await node.feeds.attach(channelId, bob.listener);
    const topic = topics.channel(channelId).name;
    await inspector.publish(topic, 'not json');
    await inspector.publish(topic, JSON.stringify({ kind: 'messageAdded' }));
    await inspector.publish(topic, JSON.stringify({ hello: 'world' }));
    const [message] = await storeMessages(channelId, 1);
    await node.bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: message! });
    await waitUntil(() => bob.received.length >= 1, 'the message after the noise');
    expect(bob.received).toEqual([message]);
  });

  it('carries user events to every process that listens to the user', async () => {
    const [a, b] = [await startNode(), await startNode()];
    const userId = `u-${Date.now()}`;
    const seen: UserEvent[][] = [[], []];
    const stops = await Promise.all([a, b].map((node, i) => node.bus.subscribe(topics.user(userId), (e) => void seen[i]!.push(e))));
    const events: UserEvent[] = [
      { kind: 'membership', channelId: 'c1', joined: true },
      { kind: 'channelRead', channelId: 'c1', lastReadSeq: 3 },
      { kind: 'membership', channelId: 'c1', joined: false },
    ];
    for (const event of events) await b.bus.publish(topics.user(userId), event);
    await waitUntil(() => seen.every((s) => s.length >= events.length), 'the user events on both processes');
    expect(seen).toEqual([events, events]);
    for (const stop of stops) await stop();
  });

  it('holds one Redis subscription per channel per process, however many listeners, until the last leaves', async () => {
    const [a, b] = [await startNode(), await startNode()];
    const channelId = await newChannel();
    const topic = topics.channel(channelId).name;
    const onA = [collector(), collector(), collector()];
    const onB = collector();
    await Promise.all(onA.map((l) => a.feeds.attach(channelId, l.listener)));
    await b.feeds.attach(channelId, onB.listener);
    expect(await redisSubscribers(topic)).toBe(2);

    const messages = await storeMessages(channelId, 4);
    // Published by both processes, out of order, the last one twice.
    for (const [node, index] of [[a, 1], [b, 0], [b, 3], [a, 2], [a, 3]] as const) {
      await node.bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: messages[index]! });
    }
    for (const l of [...onA, onB]) await waitUntil(() => l.received.length >= 4, 'four messages');
    await quietFor(50);
    for (const l of [...onA, onB]) expect(l.seqs()).toEqual(seqsUpTo(4));

    await a.feeds.detach(channelId, onA[0]!.listener);
    await a.feeds.detach(channelId, onA[1]!.listener);
    expect(await redisSubscribers(topic)).toBe(2);
    await a.feeds.detach(channelId, onA[2]!.listener);
    await waitUntil(async () => (await redisSubscribers(topic)) === 1, 'process A to unsubscribe');
    await b.feeds.detach(channelId, onB.listener);
    await waitUntil(async () => (await redisSubscribers(topic)) === 0, 'process B to unsubscribe');
  });

  /**
   * Two processes on one channel, one of them ('sender' or 'receiver') reaching Redis through a
   * proxy the test can cut; bob listens on the receiver.
   */
  async function cutOffScenario(cutOff: 'sender' | 'receiver', run: (scene: {
    proxy: Awaited<ReturnType<typeof startTcpProxy>>;
    sender: Node;
    receiver: Node;
    channelId: string;
    bob: ReturnType<typeof collector>;
    publish: (message: Message) => Promise<void>;
  }) => Promise<void>) {
    const { hostname, port } = new URL(redis.url);
    const proxy = await startTcpProxy({ host: hostname, port: Number(port) });
    try {
      const sender = cutOff === 'sender' ? await startNode(50, proxy) : await startNode();
      const receiver = cutOff === 'receiver' ? await startNode(50, proxy) : await startNode();
      const channelId = await newChannel();
      const bob = collector();
      await receiver.feeds.attach(channelId, bob.listener);
      const publish = (message: Message) => sender.bus.publish(topics.channel(channelId), { kind: 'messageAdded', message });
      await run({ proxy, sender, receiver, channelId, bob, publish });
    } finally {
      await proxy.close();
    }
  }

  it('a process cut off from Redis keeps what it sent meanwhile and publishes it once it is back', async () => {
    await cutOffScenario('sender', async ({ proxy, sender, receiver, channelId, bob, publish }) => {
      const [first, ...meanwhile] = await storeMessages(channelId, 4);
      await publish(first!);
      await waitUntil(() => bob.received.length >= 1, 'the first message');

      proxy.cut();
      await waitUntil(() => !sender.bus.isHealthy(), 'the sender to notice');
      // The receiver is connected throughout, so nothing tells it to look in the store: the
      // sender must publish these once it can.
      for (const message of meanwhile) await publish(message);
      expect(receiver.bus.isHealthy()).toBe(true);
      expect(bob.seqs()).toEqual([1]);

      proxy.restore();
      await waitUntil(() => bob.received.length >= 4, 'the messages sent while cut off');
      await quietFor(100);
      expect(bob.received).toEqual([first, ...meanwhile]);
    });
  });

  it('a process whose Redis connections were cut reads from the store what it missed meanwhile', async () => {
    await cutOffScenario('receiver', async ({ proxy, sender, receiver, channelId, bob, publish }) => {
      const [first, ...missed] = await storeMessages(channelId, 4);
      await publish(first!);
      await waitUntil(() => bob.received.length >= 1, 'the first message');

      proxy.cut();
      await waitUntil(() => !receiver.bus.isHealthy(), 'the receiver to notice');
      for (const message of missed) await publish(message); // published, but not to the receiver
      proxy.restore();
      await waitUntil(() => bob.received.length >= 4, 'the missed messages, from the store');
      // Subscribed again: the next message comes live.
      const [next] = await storeMessages(channelId, 1);
      await publish(next!);
      await waitUntil(() => bob.received.length >= 5, 'the next message');
      await quietFor(100);
      expect(bob.received).toEqual([first, ...missed, next]);
    });
  });

  it('after reconnecting, a process reads the store only once its subscriptions are back in force', async () => {
    await cutOffScenario('receiver', async ({ proxy, sender, receiver, channelId, bob }) => {
      const [first] = await storeMessages(channelId, 1);
      await sender.bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: first! });
      await waitUntil(() => bob.received.length >= 1, 'the first message');

      proxy.cut();
      await waitUntil(() => !receiver.bus.isHealthy(), 'the receiver to notice');
      // On the way back, the receiver's SUBSCRIBE takes a while to reach Redis: a message sent
      // just after the connection is up, before the subscription is, reaches it only through the store.
      proxy.setLatency(300);
      proxy.restore();
      await waitUntil(() => receiver.bus.isHealthy(), 'the receiver to reconnect', { everyMs: 2 });
      const [second] = await storeMessages(channelId, 1);
      await sender.bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: second! });
      await waitUntil(() => bob.received.length >= 2, 'the message sent during the resubscription');
      await quietFor(100);
      expect(bob.received).toEqual([first, second]);
    });
  });

  it('goes unhealthy while Redis is down; messages stored meanwhile reach the listener once Redis is back', async ({ skip }) => {
    if (!redis.owned) skip('REDIS_URL names a Redis these tests do not own; they will not stop it');
    const [a, b] = [await startNode(), await startNode()];
    const channelId = await newChannel();
    const quietChannelId = await newChannel();
    const [bob, carl] = [collector(), collector()];
    await b.feeds.attach(channelId, bob.listener);
    await b.feeds.attach(quietChannelId, carl.listener);
    const publish = (node: Node, message: Message) => node.bus.publish(topics.channel(message.channelId), { kind: 'messageAdded', message });

    for (const message of await storeMessages(channelId, 3)) await publish(a, message);
    await waitUntil(() => bob.received.length >= 3, 'the messages before the outage');

    await redis.stop();
    await waitUntil(() => !a.bus.isHealthy() && !b.bus.isHealthy(), 'both buses to notice the outage');
    // Sent while Redis is down: stored, and publishing neither throws nor hangs.
    for (const message of await storeMessages(channelId, 5)) await publish(a, message);
    // Stored without any publish at all (as if the sender's process died before publishing).
    const unpublished = await storeMessages(quietChannelId, 2);

    await redis.start();
    await waitUntil(() => a.bus.isHealthy() && b.bus.isHealthy(), 'both buses to reconnect');
    await waitUntil(() => bob.received.length >= 8 && carl.received.length >= 2, 'the messages sent during the outage');
    // And the feeds listen again: a message after the outage arrives live.
    for (const message of await storeMessages(channelId, 1)) await publish(a, message);
    await waitUntil(() => bob.received.length >= 9, 'a message after the outage');
    await quietFor(100);
    expect(bob.seqs()).toEqual(seqsUpTo(9));
    expect(carl.received).toEqual(unpublished);
  });
});
