// The outbox across processes and restarts: several real server processes sharing Redis and one
// SQLite file. A notification due is told once, whichever process holds it, even when that
// process is killed, and none is lost or told twice across a restart.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type TestRedis, startRedis } from '../support/redis.ts';
import { type ServerProcess, startServerProcess, tempDir } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';
import { channelOf, directChannel, organizationWith, send } from '../support/world.ts';
import { via } from '../multiprocess/cluster.ts';
import { type PushWorld, pushCount, registerBrowser, registerPhone, startPushWorld } from './push-world.ts';

// Each test starts real processes and waits out leases: slow on a busy machine, so a longer bound.
describe('push outbox across processes', { timeout: 90_000 }, () => {
  let world: PushWorld;
  let redis: TestRedis;
  let temp: ReturnType<typeof tempDir>;
  const running: ServerProcess[] = [];

  const start = async (extra: Record<string, string> = {}) => {
    const server = await startServerProcess(
      world.env({ REDIS_URL: redis.url, SQLITE_PATH: `${temp.dir}/chat.db`, LOG_LEVEL: 'warn', PUSH_DELAY_MS: '1500', PUSH_LEASE_MS: '3000', ...extra }),
    );
    running.push(server);
    return server;
  };

  beforeAll(async () => {
    [world, redis] = await Promise.all([startPushWorld(), startRedis()]);
  });
  beforeEach(() => {
    temp = tempDir();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => (server.child.exitCode === null && server.child.signalCode === null ? server.stop() : null)));
    temp.remove();
  });
  afterAll(async () => {
    await world?.close();
    await redis?.stop();
  });

  it('hands a notification over to another process when the one holding it is killed, and tells it once', async () => {
    const first = await start();
    const { users, ...org } = await organizationWith(first.url, ['alice', 'bob']);
    const channelId = await channelOf({ users, ...org }, users.alice!, 'ops', [users.bob!]);
    const phone = await registerPhone(world, users.bob!);
    world.gateway.answerNext('hold');
    const message = await send(users.alice!, channelId, 'the database is down @bob', { mentionIds: [users.bob!.id] });
    await waitUntil(() => phone.requests().length === 1, 'the first process to be sending it');

    const second = await start();
    await first.kill();
    await waitUntil(() => phone.requests().some((r) => r.status === 200), 'the second process to tell it', { timeoutMs: 30_000 });
    await waitUntil(async () => (await pushCount(second, 'sent')) === 1, 'the second process to count it');
    const requests = phone.requests();
    expect(requests.map((r) => [r.answered, r.status])).toEqual([[false, null], [true, 200]]);
    expect(phone.notifications().map((n) => n.event_id)).toEqual([message.id, message.id]);
  });

  it('tells every notification once when several processes claim from one outbox', async () => {
    const servers = [await start(), await start()];
    const { users, ...org } = await organizationWith(servers[0]!.url, ['alice', 'bob']);
    const browser = await registerBrowser(world, users.bob!);
    const channels: string[] = [];
    for (let i = 0; i < 6; i++) channels.push(await channelOf({ users, ...org }, users.alice!, `room-${i}`, [users.bob!]));
    await Promise.all(
      channels.map((channelId, i) => send(via(servers[i % 2]!, users.alice!), channelId, `look at room ${i} @bob`, { mentionIds: [users.bob!.id] })),
    );
    await waitUntil(async () => (await pushCount(servers[0]!, 'sent')) + (await pushCount(servers[1]!, 'sent')) === 6, 'six pushes');
    expect(browser.payloads().map((p) => p.channelId).sort()).toEqual([...channels].sort());
  });

  it('loses nothing and tells nothing twice across a restart before the notifications are due', async () => {
    const before = await start({ PUSH_DELAY_MS: '3000' });
    const { users, ...org } = await organizationWith(before.url, ['alice', 'bob']);
    const channelId = await channelOf({ users, ...org }, users.alice!, 'launch', [users.bob!]);
    const dm = await directChannel({ users, ...org }, users.alice!, users.bob!);
    const browser = await registerBrowser(world, users.bob!);
    const phone = await registerPhone(world, users.bob!);
    const mention = await send(users.alice!, channelId, 'go/no-go @bob?', { mentionIds: [users.bob!.id] });
    const direct = await send(users.alice!, dm, 'call me when you land');
    expect(await before.stop()).toBe(0);

    const after = await start({ PUSH_DELAY_MS: '3000' });
    await waitUntil(() => browser.requests().length === 2 && phone.requests().length === 2, 'both notifications on both devices');
    await waitUntil(async () => (await pushCount(after, 'sent')) === 4, 'the restarted process to count them');
    expect(browser.payloads().map((p) => p.messageId).sort()).toEqual([mention.id, direct.id].sort());
    expect(phone.notifications().map((n) => n.event_id).sort()).toEqual([mention.id, direct.id].sort());
  });

  it('tells what a killed process stored, whether or not it had decided it yet', async () => {
    const before = await start({ PUSH_DELAY_MS: '2000' });
    const { users, ...org } = await organizationWith(before.url, ['alice', 'bob']);
    const dm = await directChannel({ users, ...org }, users.alice!, users.bob!);
    const browser = await registerBrowser(world, users.bob!);
    const message = await send(users.alice!, dm, 'your package arrived');
    await before.kill();

    await start({ PUSH_DELAY_MS: '2000' });
    await waitUntil(() => browser.requests().length === 1, 'the notification after the restart');
    expect(browser.payloads()).toEqual([expect.objectContaining({ messageId: message.id, text: 'your package arrived' })]);
  });
});
