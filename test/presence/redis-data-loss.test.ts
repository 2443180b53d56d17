// Presence when Redis loses its data (restarted without persistence, or failed over to an empty
// replica): a user whose last device left around the loss still goes OFFLINE for watchers, even
// though nothing in Redis remembers the user any more.
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PresenceChangedDocument } from '../../operations/generated/graphql.ts';
import { presenceKeys } from '../../src/realtime/redis-presence.ts';
import { Subscription, connectDevice, wsClient } from '../support/client.ts';
import { type TestRedis, startRedis } from '../support/redis.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';
import { type Member, organizationWith } from '../support/world.ts';

const GRACE_MS = 2000;

type Changed = { presenceChanged: { userId: string; status: string } };

describe('presence when Redis loses its data', () => {
  let redis: TestRedis;
  let server: TestServer;
  let inspect: Redis;

  beforeAll(async () => {
    redis = await startRedis();
    // A long TTL: no refresh writes the devices back during a test, only what the test does.
    server = await startServer({ REDIS_URL: redis.url, PRESENCE_GRACE_MS: String(GRACE_MS), PRESENCE_TTL_MS: '60000', PRESENCE_SWEEP_MS: '200' });
    inspect = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: (attempt: number) => Math.min(50 * attempt, 500) });
    inspect.on('error', () => {}); // the test takes Redis away on purpose
  });
  afterAll(async () => {
    inspect?.disconnect();
    await server?.stop();
    await redis?.stop();
  });

  const gauge = async (name: 'connections' | 'subscriptions') => (await server.deps.metrics[name].get()).values[0]?.value ?? 0;
  const subscriptions = () => gauge('subscriptions');
  const connections = () => gauge('connections');

  /** ann watches bob; bob's phone connects and ann hears ONLINE. */
  async function bobOnline() {
    const { users } = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = users as Record<string, Member>;
    const before = await subscriptions();
    const client: Client = wsClient(server.wsUrl, ann!.token, 'ann-laptop');
    const watcher = new Subscription<Changed>(client, PresenceChangedDocument, { userIds: [bob!.id] });
    await waitUntil(async () => (await subscriptions()) > before, "ann's subscription");
    const phone = await connectDevice(server, bob!, 'bob-phone');
    await watcher.waitFor(1);
    expect(watcher.events[0]!.presenceChanged.status).toBe('ONLINE');
    const statuses = () => watcher.events.map((e) => e.presenceChanged.status);
    return { bob: bob!, phone, statuses, watcher, close: () => client.dispose() };
  }

  /** Redis comes back empty, and the server is connected to it again. */
  async function loseRedisData() {
    await redis.stop();
    await redis.start();
    await waitUntil(() => server.deps.bus.isHealthy(), 'the server to reconnect to Redis');
  }


  it('takes a user OFFLINE whose last device left just before Redis lost the grace', async () => {
    const { bob, phone, statuses, watcher, close } = await bobOnline();
    const userId = bob.sub;
    await phone.dispose();
    await waitUntil(async () => (await inspect.zscore(presenceKeys.pending, userId)) !== null, "bob's grace to start in Redis");
    await loseRedisData();
    await watcher.waitFor(2, GRACE_MS + 10_000);
    expect(statuses()).toEqual(['ONLINE', 'OFFLINE']);
    await close();
  });

  it('takes a user OFFLINE whose device left while Redis was away', async () => {
    const { phone, statuses, watcher, close } = await bobOnline();
    const before = await connections();
    await redis.stop();
    await phone.dispose();
    await waitUntil(async () => (await connections()) === before - 1, 'the server to see the phone leave');
    await redis.start();
    await watcher.waitFor(2, GRACE_MS + 10_000);
    expect(statuses()).toEqual(['ONLINE', 'OFFLINE']);
    await close();
  });

  it('takes a user OFFLINE who leaves after Redis came back empty, before the device was written back', async () => {
    const { phone, statuses, watcher, close } = await bobOnline();
    await loseRedisData();
    await phone.dispose();
    await watcher.waitFor(2, GRACE_MS + 10_000);
    expect(statuses()).toEqual(['ONLINE', 'OFFLINE']);
    await close();
  });
});
