// Presence when Redis goes away. When it loses its data (restarted without persistence, or failed
// over to an empty replica), a user whose last device left around the loss still goes OFFLINE for
// watchers, though nothing in Redis remembers the user any more. When one process loses its
// connection for a while, its watchers hear what changed meanwhile once it is back.
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PresenceChangedDocument } from '../../operations/generated/graphql.ts';
import { presenceKeys } from '../../src/realtime/redis-presence.ts';
import { Subscription, connectDevice, quietFor, wsClient } from '../support/client.ts';
import { type TestRedis, startRedis } from '../support/redis.ts';
import { type TestServer, startServer, tempDir } from '../support/server.ts';
import { type TcpProxy, startTcpProxy } from '../support/tcp-proxy.ts';
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
    // A long TTL: no refresh writes the devices back during a test (nor does a watcher catch up,
    // which waits for one), only what the test does.
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

describe('presence on a process cut off from Redis for a while', () => {
  let redis: TestRedis;
  let proxy: TcpProxy;
  let a: TestServer;
  let b: TestServer;
  const temp = tempDir();

  beforeAll(async () => {
    redis = await startRedis();
    const { port } = new URL(redis.url);
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(port) });
    const env = { SQLITE_PATH: `${temp.dir}/chat.db`, PRESENCE_GRACE_MS: '500', PRESENCE_TTL_MS: '1500', PRESENCE_SWEEP_MS: '200' };
    a = await startServer({ ...env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    b = await startServer({ ...env, REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await proxy?.close();
    await redis?.stop();
    temp.remove();
  });

  /** ann's device on a server watching bob, once the server has set the subscription up. */
  async function watch(server: TestServer, ann: Member, bob: Member, deviceId: string) {
    const subscriptions = async () => (await server.deps.metrics.subscriptions.get()).values[0]?.value ?? 0;
    const before = await subscriptions();
    const client = wsClient(server.wsUrl, ann.token, deviceId);
    const watcher = new Subscription<Changed>(client, PresenceChangedDocument, { userIds: [bob.id] });
    await waitUntil(async () => (await subscriptions()) > before, `ann's subscription on ${deviceId}`);
    return { client, watcher, statuses: () => watcher.events.map((e) => e.presenceChanged.status) };
  }

  it('tells its watchers, once back, who went OFFLINE while it could not hear', async () => {
    const { users } = await organizationWith(a.url, ['ann', 'bob']);
    const { ann, bob } = users as Record<string, Member>;
    const onA = await watch(a, ann!, bob!, 'ann-laptop');
    const onB = await watch(b, ann!, bob!, 'ann-phone');
    const phone = await connectDevice(b, bob!, 'bob-phone');
    await onA.watcher.waitFor(1);

    // A loses Redis; meanwhile bob leaves B, which takes him OFFLINE after the grace.
    proxy.cut();
    await waitUntil(() => !a.deps.bus.isHealthy(), 'A to notice');
    await phone.dispose();
    await onB.watcher.waitFor(2);
    expect(onB.statuses()).toEqual(['ONLINE', 'OFFLINE']);
    proxy.restore();
    await onA.watcher.waitFor(2);
    expect(onA.statuses()).toEqual(['ONLINE', 'OFFLINE']);
    await Promise.all([onA.client.dispose(), onB.client.dispose()]);
  });

  it('says nothing about users who stayed online, even when Redis came back without its data', async () => {
    const { users } = await organizationWith(a.url, ['ann', 'bob']);
    const { ann, bob } = users as Record<string, Member>;
    const onA = await watch(a, ann!, bob!, 'ann-laptop');
    const phone = await connectDevice(b, bob!, 'bob-phone');
    await onA.watcher.waitFor(1);
    await redis.stop();
    await redis.start();
    await waitUntil(() => a.deps.bus.isHealthy() && b.deps.bus.isHealthy(), 'both servers to reconnect');
    // Past the moment A's watchers catch up (a third of the TTL and a sweep), and some more.
    await quietFor(500 + 200 + 1000);
    expect(onA.statuses()).toEqual(['ONLINE']);
    await phone.dispose();
    await onA.client.dispose();
  });
});
