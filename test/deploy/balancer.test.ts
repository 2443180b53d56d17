// Three server processes (one SQLite file; one Redis, then a six-node Redis Cluster) behind HAProxy
// run with deploy/haproxy.cfg,
// and clients that only know the balancer's address: a process killed with -9, then every process
// restarted one after the other under a steady send load. Whatever happens to the processes,
// every listener ends with exactly the channel's stored history: nothing lost, nothing twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, openSubscriptions, startCluster, startClusterOnRedisCluster } from '../multiprocess/cluster.ts';
import { type TestHaproxy, checkHaproxyConfig, haproxyMissing, startHaproxy } from '../support/haproxy.ts';
import { seqsUpTo, waitUntil } from '../support/wait.ts';
import { type Member, organizationWith } from '../support/world.ts';
import { type Listener, resumingListener, steadySender, storedHistory, whenAllCaughtUp } from './traffic.ts';

const missing = haproxyMissing();
if (missing) console.warn(`test/deploy/balancer.test.ts skipped: ${missing}`);

/** Longer than HAProxy's test checks need to see /ready fail (250 ms x 2). */
const SHUTDOWN_DELAY_MS = '1500';

describe.skipIf(missing !== null)('deploy/haproxy.cfg', () => {
  it('is valid, as `haproxy -c` checks it', () => {
    const { status, output } = checkHaproxyConfig();
    expect(status, output).toBe(0);
    expect(output).toContain('Configuration file is valid');
  });
});

/** The processes share state through one Redis (REDIS_URL) or a Redis Cluster (REDIS_CLUSTER_NODES). */
const deployments = [
  { redis: 'one Redis', start: startCluster },
  { redis: 'a Redis Cluster', start: startClusterOnRedisCluster },
];

describe.skipIf(missing !== null).each(deployments)('behind HAProxy (deploy/haproxy.cfg), on $redis', ({ start }) => {
  let cluster: Cluster<{ stop(): Promise<void> }>;
  let haproxy: TestHaproxy;
  const listeners: Listener[] = [];

  beforeAll(async () => {
    cluster = await start(3, { SHUTDOWN_DELAY_MS, SEND_RATE_LIMIT: '1000000' });
    haproxy = await startHaproxy(cluster.processes.map((p) => p.port));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await haproxy?.stop();
    await cluster?.stop();
  });

  const subscriptionsOn = (indexes: number[]) =>
    Promise.all(indexes.map((i) => openSubscriptions(cluster.processes[i]!))).then((counts) => counts.reduce((a, b) => a + b, 0));

  /** Devices of the members following the channel through the balancer, live on the processes before anything is sent. */
  async function follow(members: Member[], channelId: string, devices: number): Promise<Listener[]> {
    const opened = Array.from({ length: devices }, (_, i) => resumingListener(haproxy.wsUrl, members[i % members.length]!, channelId, `${channelId}-device-${i}`));
    listeners.push(...opened);
    await waitUntil(async () => (await subscriptionsOn([0, 1, 2])) === listeners.length, `${listeners.length} subscriptions across the processes`);
    return opened;
  }

  /** The store's history has seqs 1..n with each sent text once, and every listener received exactly it. */
  async function expectNothingLostOrTwice(reader: Member, channelId: string, sent: string[], following: Listener[]) {
    const stored = await storedHistory(reader, channelId);
    expect(stored.map((m) => m.seq)).toEqual(seqsUpTo(stored.length));
    expect(stored.map((m) => m.text).sort()).toEqual([...sent].sort());
    const received = await whenAllCaughtUp(following, stored.length);
    for (const { deviceId, history } of received) expect({ deviceId, history }).toEqual({ deviceId, history: stored });
    for (const listener of following) expect(listener.errors).toEqual([]);
    return stored;
  }


  it('after kill -9 of a process, its listeners reconnect through HAProxy to the others and resume without a gap or a duplicate', { timeout: 120_000 }, async () => {
    const { users, generalId } = await organizationWith(haproxy.url, ['ann', 'bob', 'cat']);
    const following = await follow([users.ann!, users.bob!, users.cat!], generalId, 9);
    const counts = await Promise.all(cluster.processes.map(openSubscriptions));
    const victim = counts.indexOf(Math.max(...counts));
    const survivors = [0, 1, 2].filter((i) => i !== victim);

    const sender = steadySender(users.ann!, generalId, 'kill');
    await waitUntil(() => following.every((l) => l.received.length >= 20), 'messages flowing to every listener');
    await cluster.processes[victim]!.kill();
    try {
      await haproxy.waitFor(`chat-${victim + 1}`, 'DOWN');
      await waitUntil(async () => (await subscriptionsOn(survivors)) === following.length, 'every listener subscribed again on the surviving processes');
      const sentAtKill = sender.sent.length;
      await waitUntil(() => sender.sent.length >= sentAtKill + 20, 'sends going on after the kill');
      await sender.stop();

      const stored = await expectNothingLostOrTwice(users.ann!, generalId, sender.sent, following);
      expect(following.filter((l) => l.connections() > 1)).toHaveLength(counts[victim]!);
      console.log(`kill -9: ${stored.length} messages, ${counts[victim]} of ${following.length} listeners reconnected; sends retried: ${JSON.stringify(Object.fromEntries(sender.retries))}`);
    } finally {
      // The next test starts with all three up, whatever happened here.
      await sender.stop().catch(() => {});
      await cluster.restart(victim);
      await haproxy.waitFor(`chat-${victim + 1}`, 'UP');
    }
  });

  it('a rolling restart of every process under a steady send load loses and duplicates nothing', { timeout: 180_000 }, async () => {
    const { users, generalId } = await organizationWith(haproxy.url, ['dan', 'eve', 'fay'], 'Rolling');
    const members = [users.dan!, users.eve!, users.fay!];
    const following = await follow(members, generalId, 6);
    const senders = members.map((member, i) => steadySender(member, generalId, `rolling-${i}`));
    const sentSoFar = () => senders.reduce((n, s) => n + s.sent.length, 0);
    await waitUntil(() => following.every((l) => l.received.length >= 10), 'messages flowing to every listener');

    for (let i = 0; i < 3; i++) {
      const before = sentSoFar();
      expect(await cluster.processes[i]!.stop()).toBe(0);
      await cluster.restart(i);
      await haproxy.waitFor(`chat-${i + 1}`, 'UP');
      await waitUntil(() => sentSoFar() >= before + 10, `sends going on while chat-${i + 1} restarts`);
    }
    await Promise.all(senders.map((s) => s.stop()));

    const sent = senders.flatMap((s) => s.sent);
    const stored = await expectNothingLostOrTwice(users.dan!, generalId, sent, following);
    // Every process went away once: every listener was told to go (1001) and came back.
    for (const listener of following) expect(listener.connections()).toBeGreaterThan(1);
    const retries = new Map<string, number>();
    for (const s of senders) for (const [reason, n] of s.retries) retries.set(reason, (retries.get(reason) ?? 0) + n);
    const retried = [...retries.values()].reduce((a, b) => a + b, 0);
    console.log(`rolling restart: ${stored.length} messages sent by ${senders.length} senders, ${retried} sends retried: ${JSON.stringify(Object.fromEntries(retries))}`);
  });
});
