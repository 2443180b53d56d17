// Presence in one process: a watcher hears a colleague come ONLINE at once and go OFFLINE only
// after the grace period (not at all when the colleague is back within it); presence(userIds)
// answers in the order asked; only colleagues are visible; a dead socket is found by keep-alive.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PresenceChangedDocument, PresenceDocument } from '../../operations/generated/graphql.ts';
import { fromGlobalId } from '../../src/domain/ids.ts';
import { topics } from '../../src/realtime/events.ts';
import type { SequencedPresenceChange } from '../../src/realtime/redis-presence.ts';
import { Subscription, codes, connectDevice, quietFor, wsClient } from '../support/client.ts';
import { type TestRedis, startRedis } from '../support/redis.ts';
import { type TestServer, startServer, tempDir } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';
import { type Member, organizationWith, signInUsers } from '../support/world.ts';

const GRACE_MS = 800;

type Changed = { presenceChanged: { userId: string; status: string; lastActiveAt?: string | null } };

const activeSubscriptions = async (server: TestServer) => (await server.deps.metrics.subscriptions.get()).values[0]?.value ?? 0;

/** Subscribes `watcher` to the presence of `users` and waits until the server has set it up. */
async function watch(server: TestServer, watcher: Member, users: Member[]) {
  const before = await activeSubscriptions(server);
  const client = wsClient(server.wsUrl, watcher.token, `watcher-${watcher.sub}`);
  const subscription = new Subscription<Changed>(client, PresenceChangedDocument, { userIds: users.map((u) => u.id) });
  await waitUntil(async () => subscription.errors.length > 0 || (await activeSubscriptions(server)) > before, 'the subscription');
  if (subscription.errors.length > 0) throw new Error(`subscription failed: ${JSON.stringify(subscription.errors)}`);
  return { client, subscription, statuses: () => subscription.events.map((e) => `${e.presenceChanged.status}`) };
}

// The same behaviour from both implementations of the port.
describe.each(['in-process', 'redis'] as const)('presence (%s)', (kind) => {
  let server: TestServer;
  let redis: TestRedis | undefined;
  const temp = tempDir();
  const sqlitePath = join(temp.dir, 'chat.db');

  beforeAll(async () => {
    const env: Record<string, string> = { PRESENCE_GRACE_MS: String(GRACE_MS), SQLITE_PATH: sqlitePath };
    if (kind === 'redis') {
      redis = await startRedis();
      Object.assign(env, { REDIS_URL: redis.url, PRESENCE_TTL_MS: '1500', PRESENCE_SWEEP_MS: '200' });
    }
    server = await startServer(env);
    expect(server.deps.presence.kind).toBe(kind);
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.stop();
    temp.remove();
  });

  it('tells a watcher ONLINE at once and OFFLINE after the grace period, storing lastActiveAt', async () => {
    const { users } = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = users as Record<string, Member>;
    const watcher = await watch(server, ann!, [bob!]);

    const connectedAt = Date.now();
    const phone = await connectDevice(server, bob!, 'bob-phone');
    const [online] = await watcher.subscription.waitFor(1, 1000);
    expect(Date.now() - connectedAt).toBeLessThan(1000);
    expect(online!.presenceChanged).toMatchObject({ userId: bob!.id, status: 'ONLINE' });
    const shown = await ann!.run(PresenceDocument, { userIds: [bob!.id] });
    expect(shown.presence[0]!.status).toBe('ONLINE');

    const leftAt = Date.now();
    await phone.dispose();
    await quietFor(GRACE_MS / 2);
    expect(watcher.statuses()).toEqual(['ONLINE']); // still within the grace
    expect((await ann!.run(PresenceDocument, { userIds: [bob!.id] })).presence[0]!.status).toBe('ONLINE');
    const [, offline] = await watcher.subscription.waitFor(2, 5000);
    expect(Date.now() - leftAt).toBeGreaterThanOrEqual(GRACE_MS);
    expect(offline!.presenceChanged).toMatchObject({ userId: bob!.id, status: 'OFFLINE' });
    const lastActiveAt = Date.parse(offline!.presenceChanged.lastActiveAt!);
    expect(lastActiveAt).toBeGreaterThanOrEqual(leftAt);

    const after = await ann!.run(PresenceDocument, { userIds: [bob!.id] });
    expect(after.presence[0]).toMatchObject({ status: 'OFFLINE' });
    expect(Date.parse(after.presence[0]!.lastActiveAt!)).toBe(lastActiveAt);

    // The device was registered (devices: userId, deviceId, lastSeenAt).
    const db = new Database(sqlitePath, { readonly: true });
    try {
      const rows = db.prepare('SELECT deviceId, lastSeenAt FROM devices WHERE deviceId = ?').all('bob-phone') as { lastSeenAt: number }[];
      expect(rows).toHaveLength(1);
      expect(rows[0]!.lastSeenAt).toBeGreaterThanOrEqual(connectedAt);
    } finally {
      db.close();
    }
    watcher.subscription.stop();
    await watcher.client.dispose();
  });

  it('says nothing when the colleague reconnects within the grace period (nothing flaps)', async () => {
    const { users } = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = users as Record<string, Member>;
    const watcher = await watch(server, ann!, [bob!]);
    let phone = await connectDevice(server, bob!, 'bob-phone');
    await watcher.subscription.waitFor(1, 1000);

    for (let i = 0; i < 3; i++) {
      await phone.dispose();
      await quietFor(GRACE_MS / 4);
      phone = await connectDevice(server, bob!, 'bob-phone');
    }
    await quietFor(GRACE_MS + 300);
    expect(watcher.statuses()).toEqual(['ONLINE']);
    expect((await ann!.run(PresenceDocument, { userIds: [bob!.id] })).presence[0]!.status).toBe('ONLINE');

    // The same device reconnecting before its old socket has gone: the old one closing changes nothing.
    const again = await connectDevice(server, bob!, 'bob-phone');
    await phone.dispose();
    await quietFor(GRACE_MS + 300);
    expect(watcher.statuses()).toEqual(['ONLINE']);

    // Two devices: the user stays ONLINE until the last one goes.
    const laptop = await connectDevice(server, bob!, 'bob-laptop');
    await again.dispose();
    await quietFor(GRACE_MS + 300);
    expect(watcher.statuses()).toEqual(['ONLINE']);
    await laptop.dispose();
    await watcher.subscription.waitFor(2, 5000);
    expect(watcher.statuses()).toEqual(['ONLINE', 'OFFLINE']);
    watcher.subscription.stop();
    await watcher.client.dispose();
  });

  it.runIf(kind === 'redis')('shows connected users ONLINE again soon after Redis lost its data', async () => {
    const { users } = await organizationWith(server.url, ['ann', 'bob', 'cat', 'dan']);
    const { ann, bob, cat, dan } = users as Record<string, Member>;
    const colleagues = [bob!, cat!, dan!];
    const devices = await Promise.all(colleagues.map((user) => connectDevice(server, user, `${user.sub}-phone`)));
    const statuses = async () => (await ann!.run(PresenceDocument, { userIds: colleagues.map((u) => u.id) })).presence.map((p) => p.status);
    expect(await statuses()).toEqual(['ONLINE', 'ONLINE', 'ONLINE']);

    // Redis here keeps nothing on disk: a restart loses every presence entry.
    const admin = new Redis(redis!.url);
    await admin.flushall();
    admin.disconnect();
    // The process refreshes its devices every third of the 1.5 s expiry, writing back what was lost.
    await waitUntil(async () => (await statuses()).every((status) => status === 'ONLINE'), 'every device written back', { timeoutMs: 3000 });
    await Promise.all(devices.map((device) => device.dispose()));
  });

  it('gives the presence of several users in the order asked, up to 500', async () => {
    const { users } = await organizationWith(server.url, ['ann', 'bob', 'cat', 'dan']);
    const { ann, bob, cat, dan } = users as Record<string, Member>;
    const device = await connectDevice(server, cat!, 'cat-phone');
    const asked = [dan!, cat!, bob!];
    const { presence } = await ann!.run(PresenceDocument, { userIds: asked.map((u) => u.id) });
    expect(presence.map((p) => [p.userId, p.status])).toEqual([
      [dan!.id, 'OFFLINE'],
      [cat!.id, 'ONLINE'],
      [bob!.id, 'OFFLINE'],
    ]);
    expect(presence[0]!.lastActiveAt).toBeNull(); // never seen

    const many = await ann!.request(PresenceDocument, { userIds: Array.from({ length: 500 }, (_, i) => asked[i % 3]!.id) });
    expect(many.errors).toBeUndefined();
    expect(many.data!.presence).toHaveLength(500);
    expect(many.data!.presence[499]!.userId).toBe(asked[499 % 3]!.id);

    const tooMany = await ann!.request(PresenceDocument, { userIds: Array.from({ length: 501 }, () => bob!.id) });
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    await device.dispose();
  });

  it('shows only users who share an organization with the viewer', async () => {
    const { users } = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = users as Record<string, Member>;
    const { eve } = await signInUsers(server.url, ['eve']);
    const asked = await eve!.request(PresenceDocument, { userIds: [bob!.id] });
    expect(codes(asked)).toEqual(['NOT_FOUND']);
    const mixed = await ann!.request(PresenceDocument, { userIds: [bob!.id, eve!.id] });
    expect(codes(mixed)).toEqual(['NOT_FOUND']);

    const client = wsClient(server.wsUrl, eve!.token, 'eve-phone');
    const subscription = new Subscription<Changed>(client, PresenceChangedDocument, { userIds: [ann!.id] });
    await subscription.settled();
    expect(JSON.stringify(subscription.errors)).toContain('NOT_FOUND');
    await client.dispose();
  });

  it('sends events for exactly the users asked, never the rest of the organization', async () => {
    const { users } = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = users as Record<string, Member>;
    const watcher = await watch(server, ann!, [bob!]);
    const catPhone = await connectDevice(server, cat!, 'cat-phone');
    const bobPhone = await connectDevice(server, bob!, 'bob-phone');
    await watcher.subscription.waitFor(1, 1000);
    await catPhone.dispose();
    await bobPhone.dispose();
    await watcher.subscription.waitFor(2, 5000);
    await quietFor(200);
    expect(watcher.subscription.events.map((e) => [e.presenceChanged.userId, e.presenceChanged.status])).toEqual([
      [bob!.id, 'ONLINE'],
      [bob!.id, 'OFFLINE'],
    ]);
    watcher.subscription.stop();
    await watcher.client.dispose();
  });
});

describe('presenceChanged ordering', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server?.stop());

  it('drops a change older than the last one delivered, and repeats of the same status', async () => {
    const { users } = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = users as Record<string, Member>;
    const watcher = await watch(server, ann!, [bob!]);
    const userId = fromGlobalId(bob!.id).id;
    const at = new Date();
    // As processes sharing Redis publish them: numbered, but not always heard in that order.
    const heard: SequencedPresenceChange[] = [
      { userId, status: 'ONLINE', lastActiveAt: at, seq: 5 },
      { userId, status: 'OFFLINE', lastActiveAt: at, seq: 3 },
      { userId, status: 'ONLINE', lastActiveAt: at, seq: 6 },
      { userId, status: 'OFFLINE', lastActiveAt: at, seq: 8 },
      { userId, status: 'ONLINE', lastActiveAt: at, seq: 7 },
    ];
    for (const change of heard) await server.deps.bus.publish(topics.presence(userId), change);
    await watcher.subscription.waitFor(2);
    await quietFor(200);
    expect(watcher.statuses()).toEqual(['ONLINE', 'OFFLINE']);
    watcher.subscription.stop();
    await watcher.client.dispose();
  });
});

describe('presence and keep-alive', () => {
  let server: TestServer;
  const KEEPALIVE_MS = 200;

  beforeAll(async () => {
    server = await startServer({ PRESENCE_GRACE_MS: String(GRACE_MS), WS_KEEPALIVE_MS: String(KEEPALIVE_MS) });
  });
  afterAll(async () => server?.stop());

  it('finds a socket that stopped answering pings dead and takes its user OFFLINE', async () => {
    const { users } = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = users as Record<string, Member>;
    const watcher = await watch(server, ann!, [bob!]);

    // A device whose network is gone: it never answers the server's pings (nor closes).
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', { autoPong: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => {
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bob!.token}`, deviceId: 'bob-tunnel' } }));
      });
      socket.on('message', (data) => {
        if (JSON.parse(String(data)).type === 'connection_ack') resolve();
      });
      socket.once('error', reject);
    });
    const [online] = await watcher.subscription.waitFor(1, 1000);
    expect(online!.presenceChanged.status).toBe('ONLINE');

    const silentFrom = Date.now();
    // The server terminates the socket after one unanswered ping (at most two intervals).
    await waitUntil(() => socket.readyState === WebSocket.CLOSED, 'the server to drop the dead socket', { timeoutMs: 10 * KEEPALIVE_MS });
    const [, offline] = await watcher.subscription.waitFor(2, 2 * KEEPALIVE_MS + GRACE_MS + 3000);
    expect(offline!.presenceChanged.status).toBe('OFFLINE');
    expect(Date.now() - silentFrom).toBeGreaterThanOrEqual(GRACE_MS);
    watcher.subscription.stop();
    await watcher.client.dispose();
  });
});
