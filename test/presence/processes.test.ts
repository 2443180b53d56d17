// Presence across server processes sharing Redis: a device on process A is seen ONLINE by a
// watcher on process B; moving between processes within the grace says nothing; after A is
// killed with kill -9 its devices expire and the watcher hears OFFLINE within the expiry plus grace.
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PresenceChangedDocument, PresenceDocument } from '../../operations/generated/graphql.ts';
import { Subscription, connectDevice, quietFor, wsClient } from '../support/client.ts';
import { metricValue } from '../support/metrics.ts';
import { type TestRedis, startRedis } from '../support/redis.ts';
import { type ServerProcess, startServerProcess, tempDir } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';
import { type Member, organizationWith } from '../support/world.ts';

const GRACE_MS = 1000;
const TTL_MS = 1500;
const SWEEP_MS = 200;

type Changed = { presenceChanged: { userId: string; status: string; lastActiveAt?: string | null } };

const activeSubscriptions = (server: ServerProcess) => metricValue(server, 'chat_subscriptions');

describe('presence across processes (Redis)', () => {
  let redis: TestRedis;
  let a: ServerProcess;
  let b: ServerProcess;
  const temp = tempDir();

  beforeAll(async () => {
    redis = await startRedis();
    const env = {
      REDIS_URL: redis.url,
      SQLITE_PATH: `${temp.dir}/chat.db`,
      PRESENCE_GRACE_MS: String(GRACE_MS),
      PRESENCE_TTL_MS: String(TTL_MS),
      PRESENCE_SWEEP_MS: String(SWEEP_MS),
      LOG_LEVEL: 'warn',
    };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.kill(), b?.kill()]);
    await redis?.stop();
    temp.remove();
  });

  it('shows a device on A to a watcher on B, and says nothing when it moves to B within the grace', async () => {
    const { users } = await organizationWith(a.url, ['ann', 'bob']);
    const { ann, bob } = users as Record<string, Member>;
    const before = await activeSubscriptions(b);
    const watcherClient = wsClient(b.wsUrl, ann!.token, 'ann-phone');
    const watcher = new Subscription<Changed>(watcherClient, PresenceChangedDocument, { userIds: [bob!.id] });
    await waitUntil(async () => (await activeSubscriptions(b)) > before, 'the subscription on B');

    const connectedAt = Date.now();
    const onA = await connectDevice(a, bob!, 'bob-phone');
    await watcher.waitFor(1, 1000);
    expect(Date.now() - connectedAt).toBeLessThan(1000);
    expect(watcher.events[0]!.presenceChanged.status).toBe('ONLINE');
    const seenOnB = await ann!.at(b.url).run(PresenceDocument, { userIds: [bob!.id] });
    expect(seenOnB.presence[0]!.status).toBe('ONLINE');

    // The network changes: the phone's socket on A goes, it comes back on B within the grace.
    await onA.dispose();
    await quietFor(GRACE_MS / 4);
    const onB = await connectDevice(b, bob!, 'bob-phone');
    await quietFor(GRACE_MS + 3 * SWEEP_MS);
    expect(watcher.events.map((e) => e.presenceChanged.status)).toEqual(['ONLINE']);

    const leftAt = Date.now();
    await onB.dispose();
    await watcher.waitFor(2, GRACE_MS + 3000);
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(GRACE_MS);
    expect(watcher.events[1]!.presenceChanged.status).toBe('OFFLINE');
    const seenOnA = await ann!.run(PresenceDocument, { userIds: [bob!.id] });
    expect(seenOnA.presence[0]!.status).toBe('OFFLINE');
    expect(Date.parse(seenOnA.presence[0]!.lastActiveAt!)).toBeGreaterThanOrEqual(leftAt);
    watcher.stop();
    await watcherClient.dispose();
  });

  it('takes the users of a process killed with kill -9 OFFLINE within the expiry plus grace', async () => {
    const { users } = await organizationWith(b.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = users as Record<string, Member>;
    const before = await activeSubscriptions(b);
    const watcherClient = wsClient(b.wsUrl, ann!.token, 'ann-phone');
    const watcher = new Subscription<Changed>(watcherClient, PresenceChangedDocument, { userIds: [bob!.id, cat!.id] });
    await waitUntil(async () => (await activeSubscriptions(b)) > before, 'the subscription on B');

    await connectDevice(a, bob!, 'bob-phone');
    await connectDevice(a, cat!, 'cat-laptop');
    const catOnB = await connectDevice(b, cat!, 'cat-phone'); // cat also has a device on B
    await watcher.waitFor(2, 2000);
    await quietFor(TTL_MS / 2); // a refresh or two: entries live on only while refreshed

    const killedAt = Date.now();
    await a.kill();
    await watcher.waitFor(3, TTL_MS + GRACE_MS + 2000);
    const took = Date.now() - killedAt;
    expect(took).toBeGreaterThanOrEqual(GRACE_MS);
    expect(took).toBeLessThan(TTL_MS + GRACE_MS + 2000);
    expect(watcher.events.map((e) => [e.presenceChanged.userId, e.presenceChanged.status])).toEqual(
      expect.arrayContaining([
        [bob!.id, 'ONLINE'],
        [cat!.id, 'ONLINE'],
      ]),
    );
    expect(watcher.events[2]!.presenceChanged).toMatchObject({ userId: bob!.id, status: 'OFFLINE' });

    // cat is still connected through B: expiring the device on A changes nothing for cat.
    await quietFor(3 * SWEEP_MS);
    expect(watcher.events).toHaveLength(3);
    const { presence } = await ann!.at(b.url).run(PresenceDocument, { userIds: [cat!.id, bob!.id] });
    expect(presence.map((p) => p.status)).toEqual(['ONLINE', 'OFFLINE']);
    expect(presence[1]!.lastActiveAt).not.toBeNull();
    watcher.stop();
    await catOnB.dispose();
    await watcherClient.dispose();
  });
});
