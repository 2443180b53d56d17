// Three real server processes on a real Redis Cluster (three masters, a replica each), as a
// deployment with REDIS_CLUSTER_NODES runs them: messages reach listeners on every process in
// order, once, through sharded pub/sub on the master owning the channel's slot; a user's devices on
// different processes stay in sync; presence and the rate limits are shared across processes; a
// channel's slot moving to another master loses nothing; when the whole cluster is down /ready says
// so, and the conversation goes on without a gap once it is back; the users of a killed process go
// OFFLINE whichever master keeps their presence.
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MarkChannelReadDocument, PresenceChangedDocument, PresenceDocument, SendMessageDocument } from '../../operations/generated/graphql.ts';
import { fromGlobalId } from '../../src/domain/ids.ts';
import { topics } from '../../src/realtime/events.ts';
import { clusterLayout } from '../../src/realtime/presence-layout.ts';
import { Subscription, connectDevice, quietFor, wsClient } from '../support/client.ts';
import { type TestRedisCluster, waitForClusterOk } from '../support/redis-cluster.ts';
import type { ServerProcess } from '../support/server.ts';
import { seqsUpTo, waitUntil } from '../support/wait.ts';
import { type Member, channelOf, organizationWith, send } from '../support/world.ts';
import {
  type Cluster,
  closeDevices,
  inSeqOrder,
  listen,
  readiness,
  sendAll,
  startClusterOnRedisCluster,
  via,
  waitForSubscriptions,
  watchViewerEvents,
} from '../multiprocess/cluster.ts';

let cluster: Cluster<TestRedisCluster>;
let p1: ServerProcess;
let p2: ServerProcess;
let p3: ServerProcess;

const SEND_RATE_LIMIT = 60;
const GRACE_MS = 1000;

beforeAll(async () => {
  cluster = await startClusterOnRedisCluster(3, {
    SEND_RATE_LIMIT: String(SEND_RATE_LIMIT),
    PRESENCE_GRACE_MS: String(GRACE_MS),
    PRESENCE_TTL_MS: '1500',
    PRESENCE_SWEEP_MS: '200',
  });
  [p1, p2, p3] = cluster.processes as [ServerProcess, ServerProcess, ServerProcess];
}, 150_000);
afterAll(async () => cluster?.stop());
beforeEach(({ onTestFailed }) => onTestFailed(() => console.error(cluster.logs())));
afterEach(async () => {
  // A failed outage test may have left nodes down.
  const down = cluster.redis.ports().length < 6;
  if (down) await restartNodes();
  await closeDevices(cluster.processes);
});

let killed: number[] = [];
async function restartNodes() {
  await Promise.all(killed.map((port) => cluster.redis.restart(port)));
  killed = [];
  await waitForClusterOk(cluster.redis, 30_000);
}

/** What each live node answers to a PUBSUB subcommand, by port. */
async function pubsubOnEveryNode(...args: string[]): Promise<Map<number, unknown>> {
  const answers = await Promise.all(cluster.redis.ports().map(async (port) => [port, await cluster.redis.node(port).call('PUBSUB', ...args)] as const));
  return new Map(answers);
}

describe('three processes on a Redis Cluster', () => {
  it('senders on every process: listeners on every process get each message once, in order, over sharded pub/sub', async () => {
    const world = await organizationWith(p1.url, ['ann', 'bob', 'cat', 'dan', 'eve', 'fay']);
    const { ann, bob, cat, dan, eve, fay } = world.users;
    const channelId = await channelOf(world, ann!, 'launch', [bob!, cat!, dan!, eve!, fay!]);

    // Two listeners on p2: still one subscription of that process to the channel's topic.
    const listeners = [listen(p1, dan!, channelId), listen(p2, eve!, channelId), listen(p2, fay!, channelId), listen(p3, ann!, channelId)];
    await waitForSubscriptions([[p1, 1], [p2, 2], [p3, 1]]);

    const senders = [ann!, via(p2, bob!), via(p3, cat!)];
    const perSender = 20;
    const sending = senders.map((sender) => sendAll(sender, channelId, Array.from({ length: perSender }, (_, i) => `${sender.sub} #${i}`), 4));
    const late = listen(p3, bob!, channelId, 0); // opens while messages flow, from the start
    const stored = (await Promise.all(sending)).flat();
    const total = senders.length * perSender;
    expect(stored.map((m) => m.seq).sort((a, b) => a - b)).toEqual(seqsUpTo(total));
    for (const listener of [...listeners, late]) await listener.subscription.waitFor(total, 30_000);
    await quietFor(300); // nothing may follow: no message twice
    for (const listener of [...listeners, late]) {
      expect(listener.messages().map((m) => ({ seq: m.seq, text: m.text }))).toEqual(inSeqOrder(stored));
    }

    // The topic is a sharded channel of the master that owns its slot, and only there; no node
    // has a classic channel for it (which the cluster would broadcast to every node).
    const topic = topics.channel(fromGlobalId(channelId).id).name;
    const owner = await cluster.redis.masterOf(topic);
    const sharded = await pubsubOnEveryNode('SHARDCHANNELS', topic);
    expect(sharded.get(owner)).toEqual([topic]);
    for (const [port, channels] of sharded) if (port !== owner) expect(channels, `shard channels of node ${port}`).toEqual([]);
    for (const [port, channels] of await pubsubOnEveryNode('CHANNELS')) expect(channels, `classic channels of node ${port}`).toEqual([]);
    // One subscription per process, however many of its clients listen.
    expect(await cluster.redis.node(owner).call('PUBSUB', 'SHARDNUMSUB', topic)).toEqual([topic, 3]);
  });

  it("keeps a user's devices on different processes in sync: messages, then the read marker", async () => {
    const world = await organizationWith(p1.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const phone = watchViewerEvents(p1, ann!);
    const laptop = watchViewerEvents(p3, ann!);
    await waitForSubscriptions([[p1, 1], [p3, 1]]);

    const message = await send(via(p2, bob!), world.generalId, 'hello ann');
    for (const device of [phone, laptop]) {
      await waitUntil(() => device.ofKind('MessageAddedEvent').length >= 1, 'the message on each device');
      expect(device.ofKind('MessageAddedEvent')).toMatchObject([{ message: { id: message.id }, channel: { id: world.generalId, unreadCount: 1 } }]);
    }
    // Read on a third process: both devices clear the badge.
    await via(p2, ann!).run(MarkChannelReadDocument, { input: { channelId: world.generalId } });
    for (const device of [phone, laptop]) {
      await waitUntil(() => device.ofKind('ChannelReadEvent').length >= 1, 'the read marker on each device');
      expect(device.ofKind('ChannelReadEvent')).toMatchObject([{ channel: { id: world.generalId, lastReadSeq: message.seq, unreadCount: 0 } }]);
    }
    expect([...phone.subscription.errors, ...laptop.subscription.errors]).toEqual([]);
  });

  it('shows a device on one process as ONLINE to the other processes, and OFFLINE after the grace', async () => {
    const { users } = await organizationWith(p1.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = users as Record<string, Member>;
    type Changed = { presenceChanged: { userId: string; status: string } };
    const watcherClient: Client = wsClient(p1.wsUrl, ann!.token, 'ann-phone');
    const watcher = new Subscription<Changed>(watcherClient, PresenceChangedDocument, { userIds: [bob!.id, cat!.id] });
    await waitForSubscriptions([[p1, 1]]);
    try {
      const bobOnP2 = await connectDevice(p2, bob!, 'bob-phone');
      const catOnP3 = await connectDevice(p3, cat!, 'cat-laptop');
      await watcher.waitFor(2, 5000);
      expect(watcher.events.map((e) => e.presenceChanged.status)).toEqual(['ONLINE', 'ONLINE']);
      for (const server of [p1, p2, p3]) {
        const { presence } = await ann!.at(server.url).run(PresenceDocument, { userIds: [bob!.id, cat!.id] });
        expect(presence.map((p) => p.status)).toEqual(['ONLINE', 'ONLINE']);
      }

      await bobOnP2.dispose();
      await watcher.waitFor(3, GRACE_MS + 5000);
      expect(watcher.events[2]!.presenceChanged).toMatchObject({ userId: bob!.id, status: 'OFFLINE' });
      const { presence } = await ann!.at(p3.url).run(PresenceDocument, { userIds: [bob!.id, cat!.id] });
      expect(presence.map((p) => p.status)).toEqual(['OFFLINE', 'ONLINE']);
      await catOnP3.dispose();
    } finally {
      watcher.stop();
      await watcherClient.dispose();
    }
  });

  it("counts a user's sends through all three processes against one limit, kept in the user's slot", async () => {
    const world = await organizationWith(p1.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const third = SEND_RATE_LIMIT / 3;
    for (const server of [p1, p2, p3]) {
      await sendAll(via(server, ann!), world.generalId, Array.from({ length: third }, (_, i) => `${server.port} #${i}`), 4);
    }
    for (const server of [p1, p2, p3]) {
      const refused = await via(server, ann!).request(SendMessageDocument, { input: { channelId: world.generalId, text: 'one too many' } });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    }
    expect((await send(via(p3, bob!), world.generalId, 'bob is fine')).seq).toBe(SEND_RATE_LIMIT + 1);
    // The counter is one key, on the master that owns the user's hash tag.
    const key = `ratelimit:{${ann!.sub}}:send`;
    expect(await cluster.redis.node(await cluster.redis.masterOf(key)).exists(key)).toBe(1);
  });

  it('/ready says the cluster bus is up', async () => {
    for (const server of [p1, p2, p3]) expect(await readiness(server)).toMatchObject({ status: 200, body: { ready: true, bus: 'redis-cluster up' } });
  });
});

describe("when a channel's slot moves to another master (a resharding)", () => {
  it('the processes subscribe on the new owner; every listener gets every message once, in order', async () => {
    const world = await organizationWith(p1.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const channelId = await channelOf(world, ann!, 'moving', [bob!, cat!]);
    const topic = topics.channel(fromGlobalId(channelId).id).name;
    const listeners = [listen(p1, bob!, channelId), listen(p2, cat!, channelId)];
    await waitForSubscriptions([[p1, 1], [p2, 1]]);

    let stop = false;
    let sent = 0;
    const sender = (async () => {
      for (let i = 0; !stop; i++) {
        await send(via(p3, ann!), channelId, `line ${i}`);
        sent = i + 1;
        await quietFor(20);
      }
    })();
    try {
      await listeners[0]!.subscription.waitFor(10, 10_000);
      const from = await cluster.redis.masterOf(topic);
      const to = (await cluster.redis.masters()).find((port) => port !== from)!;
      await cluster.redis.moveSlot(topic, to);
      expect(await cluster.redis.masterOf(topic)).toBe(to);
      // The two processes listening now hold their subscriptions on the new owner.
      await waitUntil(async () => (await cluster.redis.node(to).call('PUBSUB', 'SHARDNUMSUB', topic) as [string, number])[1] === 2, 'both subscriptions on the new owner');
      const moved = sent;
      await waitUntil(() => listeners.every((l) => l.messages().length >= moved + 10), 'messages after the move', { timeoutMs: 20_000 });
    } finally {
      stop = true;
      await sender;
    }
    for (const listener of listeners) await listener.subscription.waitFor(sent, 20_000);
    await quietFor(300);
    for (const listener of listeners) {
      expect(listener.seqs()).toEqual(seqsUpTo(sent));
      expect(listener.messages().map((m) => m.text)).toEqual(seqsUpTo(sent).map((seq) => `line ${seq - 1}`));
    }
  });
});

describe('when every node of the cluster is down', () => {
  it('/ready answers 503 until the cluster is back; the conversation goes on; every listener gets every message once, in order', async () => {
    const world = await organizationWith(p1.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const channelId = await channelOf(world, ann!, 'standup', [bob!, cat!]);
    const listeners = [listen(p1, bob!, channelId), listen(p3, cat!, channelId)];
    await waitForSubscriptions([[p1, 1], [p3, 1]]);
    const speakers = [ann!, via(p2, bob!), via(p3, cat!)];
    const sent: string[] = [];
    const talk = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const message = await send(speakers[i % 3]!, channelId, `line ${i}`);
        sent[message.seq - 1] = message.text;
      }
    };
    await talk(0, 5);

    killed = cluster.redis.ports();
    await Promise.all(killed.map((port) => cluster.redis.kill(port)));
    for (const server of [p1, p2, p3]) {
      await waitUntil(async () => (await readiness(server)).status === 503, 'a 503 from /ready');
      expect((await readiness(server)).body).toMatchObject({ ready: false, bus: 'redis-cluster down', store: 'sqlite up' });
    }
    await talk(5, 10); // sending does not depend on Redis: stored and numbered
    // A device that connects meanwhile is served (presence does not hold it up) from the store.
    const during = listen(p2, ann!, channelId, 0);
    await during.subscription.waitFor(10, 10_000);
    listeners.push(during);

    await restartNodes();
    for (const server of [p1, p2, p3]) await waitUntil(async () => (await readiness(server)).status === 200, 'a 200 from /ready', { timeoutMs: 30_000 });
    await talk(10, 15);

    for (const listener of listeners) await listener.subscription.waitFor(15, 30_000);
    await quietFor(300);
    for (const listener of listeners) {
      expect(listener.seqs()).toEqual(seqsUpTo(15));
      expect(listener.messages().map((m) => m.text)).toEqual(sent);
    }
  });
});

describe('when a server process dies', () => {
  // Last: it kills p3.
  it('the sweeper takes its users OFFLINE whichever master keeps their presence', async () => {
    const candidates = Array.from({ length: 24 }, (_, i) => `user${i}`);
    const { users } = await organizationWith(p1.url, ['ann', ...candidates]);
    const masterOf = (member: Member) => cluster.redis.masterOf(clusterLayout.devices(member.sub));
    // One user whose presence shard is on each master.
    const byMaster = new Map<number, Member>();
    for (const name of candidates) {
      const master = await masterOf(users[name]!);
      if (!byMaster.has(master)) byMaster.set(master, users[name]!);
    }
    expect([...byMaster.keys()].sort()).toEqual((await cluster.redis.masters()).sort());
    const chosen = [...byMaster.values()];

    type Changed = { presenceChanged: { userId: string; status: string } };
    const watcherClient: Client = wsClient(p1.wsUrl, users.ann!.token, 'ann-phone');
    const watcher = new Subscription<Changed>(watcherClient, PresenceChangedDocument, { userIds: chosen.map((m) => m.id) });
    await waitForSubscriptions([[p1, 1]]);
    try {
      for (const member of chosen) await connectDevice(p3, member, `${member.sub}-phone`);
      await watcher.waitFor(chosen.length, 5000);
      await p3.kill();
      await watcher.waitFor(2 * chosen.length, 1500 + GRACE_MS + 5000);
      const offline = watcher.events.slice(chosen.length).map((e) => e.presenceChanged);
      expect(offline.map((change) => change.status)).toEqual(chosen.map(() => 'OFFLINE'));
      expect(offline.map((change) => change.userId).sort()).toEqual(chosen.map((m) => m.id).sort());
    } finally {
      watcher.stop();
      await watcherClient.dispose();
    }
  });
});
