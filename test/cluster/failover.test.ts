// A Redis Cluster master fails while a conversation flows: kill -9 of the master that owns the
// busy channel's slot (and a watched user's presence), its replica takes over, and nobody notices
// more than a pause. Every listener, on either process, gets every message once, in seq order
// (what pub/sub lost is read from the store); a send that fails says UNAVAILABLE and is retried
// with the same clientMessageId; presence works again; the test prints how long delivery paused.
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PresenceChangedDocument, PresenceDocument, SendMessageDocument } from '../../operations/generated/graphql.ts';
import { fromGlobalId } from '../../src/domain/ids.ts';
import { topics } from '../../src/realtime/events.ts';
import { clusterLayout } from '../../src/realtime/presence-layout.ts';
import { Subscription, codes, connectDevice, quietFor, wsClient } from '../support/client.ts';
import { type TestRedisCluster, waitForFailover } from '../support/redis-cluster.ts';
import type { ServerProcess } from '../support/server.ts';
import { seqsUpTo, waitUntil } from '../support/wait.ts';
import { type Member, channelOf, organizationWith } from '../support/world.ts';
import { type Cluster, closeDevices, listen, readiness, startClusterOnRedisCluster, via, waitForSubscriptions } from '../multiprocess/cluster.ts';

let cluster: Cluster<TestRedisCluster>;
let p1: ServerProcess;
let p2: ServerProcess;

beforeAll(async () => {
  cluster = await startClusterOnRedisCluster(2, { SEND_RATE_LIMIT: '100000', PRESENCE_GRACE_MS: '1000', PRESENCE_TTL_MS: '1500', PRESENCE_SWEEP_MS: '200' });
  [p1, p2] = cluster.processes as [ServerProcess, ServerProcess];
}, 150_000);
afterAll(async () => {
  await closeDevices(cluster?.processes ?? []).catch(() => undefined);
  await cluster?.stop();
});
beforeEach(({ onTestFailed }) => onTestFailed(() => console.error(cluster.logs())));

/** Candidates for the watched user: one of them keeps their presence on the master that fails. */
const CANDIDATES = Array.from({ length: 24 }, (_, i) => `user${i}`);

describe('a Redis Cluster master fails', () => {
  it('its replica takes over; every listener gets every message once, in order; presence recovers', async () => {
    const world = await organizationWith(p1.url, ['ann', 'bob', 'cat', ...CANDIDATES]);
    const { ann, bob, cat } = world.users;
    const channelId = await channelOf(world, ann!, 'busy', [bob!, cat!]);
    const victim = await cluster.redis.masterOf(topics.channel(fromGlobalId(channelId).id).name);
    const presenceMaster = (member: Member) => cluster.redis.masterOf(clusterLayout.devices(fromGlobalId(member.id).id));
    let watched: Member | undefined;
    for (const name of CANDIDATES) if (!watched && (await presenceMaster(world.users[name]!)) === victim) watched = world.users[name];
    if (!watched) throw new Error(`none of ${CANDIDATES.length} users keeps presence on the master ${victim}`);

    const listeners = [listen(p1, bob!, channelId), listen(p2, cat!, channelId)];
    const watcherClient: Client = wsClient(p1.wsUrl, ann!.token, 'ann-phone');
    type Changed = { presenceChanged: { userId: string; status: string } };
    const watcher = new Subscription<Changed>(watcherClient, PresenceChangedDocument, { userIds: [watched.id] });
    await waitForSubscriptions([[p1, 2], [p2, 1]]);

    // Ann sends through p1, one message after the other, retrying a refused send with the same
    // clientMessageId as a client does; anything but UNAVAILABLE fails the test.
    const unexpected: unknown[] = [];
    let retried = 0;
    let sent = 0;
    let stop = false;
    const sender = (async () => {
      for (let i = 0; !stop; i++) {
        const input = { channelId, text: `line ${i}`, clientMessageId: `line-${i}` };
        for (;;) {
          const result = await via(p1, ann!).request(SendMessageDocument, { input });
          if (!result.errors) break;
          if (codes(result).some((code) => code !== 'UNAVAILABLE')) unexpected.push(result.errors);
          retried++;
          await quietFor(100);
        }
        sent = i + 1;
        await quietFor(20);
      }
    })();
    const stopSending = async () => {
      stop = true;
      await sender;
    };

    try {
      await listeners[1]!.subscription.waitFor(20, 20_000);
      const killedAt = Date.now();
      await cluster.redis.kill(victim);
      await waitForFailover(cluster.redis, victim);
      const failoverMs = Date.now() - killedAt;
      expect(await cluster.redis.masterOf(topics.channel(fromGlobalId(channelId).id).name)).not.toBe(victim);

      // The watched user connects on p2 after the failover: p1 sees them ONLINE.
      const device = await connectDevice(p2, watched, 'watched-phone');
      await watcher.waitFor(1, 15_000);
      expect(watcher.events[0]!.presenceChanged).toMatchObject({ userId: watched.id, status: 'ONLINE' });
      const { presence } = await ann!.run(PresenceDocument, { userIds: [watched.id] });
      expect(presence[0]!.status).toBe('ONLINE');

      // Messages keep flowing after the failover, then the sender stops.
      const afterFailover = sent;
      await waitUntil(() => listeners.every((l) => l.messages().length >= afterFailover + 20), 'messages after the failover', { timeoutMs: 30_000 });
      await stopSending();
      for (const listener of listeners) await listener.subscription.waitFor(sent, 30_000);
      await quietFor(300); // nothing may follow: no message twice

      expect(unexpected).toEqual([]);
      for (const listener of listeners) {
        expect(listener.seqs()).toEqual(seqsUpTo(sent));
        expect(listener.messages().map((m) => m.text)).toEqual(seqsUpTo(sent).map((seq) => `line ${seq - 1}`));
      }
      for (const server of [p1, p2]) await waitUntil(async () => (await readiness(server)).status === 200, '/ready to answer 200 again');

      const pauses = listeners.map(({ subscription }) => Math.max(...subscription.arrivedAt.slice(1).map((at, i) => at - subscription.arrivedAt[i]!)));
      console.log(
        `Redis Cluster failover: replica promoted after ${failoverMs} ms; delivery paused at most ${Math.max(...pauses)} ms ` +
          `(per listener: ${pauses.join(', ')} ms); ${sent} messages, ${retried} sends retried`,
      );
      await device.dispose();
    } finally {
      await stopSending();
      watcher.stop();
      await watcherClient.dispose();
    }
  }, 90_000);
});
