// Notifications for devices that are away, as a browser and a phone app see them: one server
// process telling a local Web Push service and a local push gateway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarkChannelReadDocument, PushRegistrationsDocument, RemoveChannelMemberDocument } from '../../operations/generated/graphql.ts';
import { connectDevice } from '../support/client.ts';
import { type ServerProcess, startServerProcess, tempDir } from '../support/server.ts';
import { verifyVapid } from '../support/web-push-subscriber.ts';
import { waitUntil } from '../support/wait.ts';
import { channelOf, directChannel, organizationWith, send } from '../support/world.ts';
import { type PushWorld, pushCount, registerBrowser, registerPhone, startPushWorld } from './push-world.ts';

const DELAY_MS = 4000;

describe('push notifications', () => {
  let world: PushWorld;
  let server: ServerProcess;
  let temp: ReturnType<typeof tempDir>;

  beforeAll(async () => {
    world = await startPushWorld();
    temp = tempDir();
    server = await startServerProcess(world.env({ SQLITE_PATH: `${temp.dir}/chat.db`, PUSH_DELAY_MS: String(DELAY_MS), LOG_LEVEL: 'warn' }));
  });
  afterAll(async () => {
    await server?.stop();
    await world?.close();
    temp?.remove();
  });

  /** Alice and Bob in an organization of their own, Bob's browser and phone registered, and a channel of theirs. */
  async function aliceAndBob(extra: string[] = []) {
    const org = await organizationWith(server.url, ['alice', 'bob', ...extra]);
    const { alice, bob } = org.users as Record<'alice' | 'bob', (typeof org.users)[string]>;
    const browser = await registerBrowser(world, bob!);
    const phone = await registerPhone(world, bob!);
    const channelId = await channelOf(org, alice!, 'design', Object.values(org.users).filter((u) => u !== alice));
    return { org, alice: alice!, bob: bob!, browser, phone, channelId };
  }

  it('tells an offline member mentioned in a channel once, on each device, after the delay', async () => {
    const { alice, bob, browser, phone, channelId } = await aliceAndBob();
    const message = await send(alice, channelId, 'can you review the mockups @bob?', { mentionIds: [bob.id] });
    const sentAt = Date.parse(message.sentAt);
    await waitUntil(() => browser.requests().length === 1 && phone.requests().length === 1, 'a push on the browser and the phone');

    const [push] = browser.requests();
    expect(push!.at).toBeGreaterThanOrEqual(sentAt + DELAY_MS);
    expect(push!.headers['content-encoding']).toBe('aes128gcm');
    expect(Number(push!.headers.ttl)).toBeGreaterThan(0);
    expect(push!.headers.urgency).toBe('high');
    expect(push!.headers.topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    const claims = await verifyVapid(push!.headers, world.pushService.url, world.vapid.publicKey);
    expect(claims.sub).toBe(world.vapid.subject);
    expect(browser.payloads()).toEqual([
      expect.objectContaining({
        channelId,
        messageId: message.id,
        seq: message.seq,
        text: 'can you review the mockups @bob?',
        channelName: 'design',
        sender: expect.objectContaining({ id: alice.id, name: 'alice' }),
        unreadCount: 1,
        mentionCount: 1,
        mentioned: true,
      }),
    ]);

    const [notify] = phone.requests();
    expect(notify!.path).toBe('/_matrix/push/v1/notify');
    expect(notify!.headers['content-type']).toBe('application/json');
    expect(phone.notifications()).toEqual([
      {
        event_id: message.id,
        room_id: channelId,
        type: 'm.room.message',
        sender: alice.id,
        sender_display_name: 'alice',
        room_name: 'design',
        prio: 'high',
        content: { msgtype: 'm.text', body: 'can you review the mockups @bob?' },
        counts: { unread: 1, mentions: 1 },
        devices: [
          {
            app_id: 'com.example.chat.ios',
            pushkey: phone.pushkey,
            pushkey_ts: expect.any(Number),
            data: {},
            tweaks: { sound: 'default', highlight: true },
          },
        ],
      },
    ]);
  });

  it('tells nobody whose device is connected', async () => {
    const { alice, bob, browser, phone, channelId } = await aliceAndBob();
    const device = await connectDevice(server, bob, 'bob-laptop');
    try {
      const cancelled = await pushCount(server, 'cancelled', /reason="online"/);
      await send(alice, channelId, 'standup in 5 @bob', { mentionIds: [bob.id] });
      await waitUntil(async () => (await pushCount(server, 'cancelled', /reason="online"/)) === cancelled + 1, 'the notification to be dropped');
      expect(browser.requests()).toEqual([]);
      expect(phone.requests()).toEqual([]);
    } finally {
      await device.dispose();
    }
  });

  it('tells nobody who read the channel on another device before the delay', async () => {
    const { alice, bob, browser, phone, channelId } = await aliceAndBob();
    const cancelled = await pushCount(server, 'cancelled', /reason="read"/);
    await send(alice, channelId, 'lunch? @bob', { mentionIds: [bob.id] });
    await bob.run(MarkChannelReadDocument, { input: { channelId } });
    await waitUntil(async () => (await pushCount(server, 'cancelled', /reason="read"/)) === cancelled + 1, 'the notification to be dropped');
    expect(browser.requests()).toEqual([]);
    expect(phone.requests()).toEqual([]);
  });

  it('collapses five messages before the delay into one notification about the newest, with the counts', async () => {
    const { alice, bob, browser, phone, channelId } = await aliceAndBob();
    const sent = await pushCount(server, 'sent');
    const messages = [];
    for (let i = 1; i <= 5; i++) messages.push(await send(alice, channelId, `point ${i} @bob`, { mentionIds: [bob.id] }));
    await send(alice, channelId, 'and a note for everyone else');
    expect(Date.now()).toBeLessThan(Date.parse(messages[0]!.sentAt) + DELAY_MS); // the premise: all sent within the delay
    await waitUntil(async () => (await pushCount(server, 'sent')) === sent + 2, 'one push to each device');
    const newest = messages.at(-1)!;
    expect(browser.payloads()).toEqual([expect.objectContaining({ messageId: newest.id, text: 'point 5 @bob', unreadCount: 6, mentionCount: 5 })]);
    expect(browser.requests()).toHaveLength(1);
    expect(phone.notifications()).toEqual([expect.objectContaining({ event_id: newest.id, counts: { unread: 6, mentions: 5 } })]);
  });

  it('tells the other member of a direct channel about every message, never its author', async () => {
    const { org, alice, bob, browser, phone } = await aliceAndBob();
    const alicesBrowser = await registerBrowser(world, alice);
    const dm = await directChannel(org, alice, bob);
    const message = await send(alice, dm, 'are you around?');
    await waitUntil(() => browser.requests().length === 1 && phone.requests().length === 1, 'a push on both devices');
    expect(browser.payloads()).toEqual([
      expect.objectContaining({ channelId: dm, messageId: message.id, channelKind: 'DIRECT', channelName: 'alice', mentioned: false, unreadCount: 1 }),
    ]);
    expect(phone.notifications()).toEqual([expect.objectContaining({ room_id: dm, room_name: 'alice', counts: { unread: 1 } })]);
    expect(alicesBrowser.requests()).toEqual([]);
  });

  it('tells nobody about a channel they left before the delay', async () => {
    const { org, alice, browser, channelId } = await aliceAndBob(['carol']);
    const carol = org.users.carol!;
    const carolsBrowser = await registerBrowser(world, carol);
    await send(alice, channelId, '@channel the release is out', { mentionsChannel: true });
    await carol.run(RemoveChannelMemberDocument, { input: { channelId, userId: carol.id } });
    await waitUntil(() => browser.requests().length === 1, "bob's push");
    await waitUntil(async () => (await pushCount(server, 'cancelled', /reason="left"/)) >= 1, "carol's to be dropped");
    expect(carolsBrowser.requests()).toEqual([]);
  });

  it('removes a browser registration its push service says is gone (410)', async () => {
    const { alice, bob, browser, phone, channelId } = await aliceAndBob();
    world.pushService.answerNext({ status: 410 });
    await send(alice, channelId, 'ping @bob', { mentionIds: [bob.id] });
    await waitUntil(async () => (await bob.run(PushRegistrationsDocument)).me.pushRegistrations.length === 1, 'the browser to be unregistered');
    expect((await bob.run(PushRegistrationsDocument)).me.pushRegistrations).toEqual([expect.objectContaining({ deviceId: phone.deviceId, kind: 'PUSHER' })]);
    expect(browser.requests()).toHaveLength(1);
    await waitUntil(() => phone.requests().length === 1, 'the phone still told');
  });

  it("removes a pusher whose pushkey the gateway rejects", async () => {
    const { alice, bob, browser, phone, channelId } = await aliceAndBob();
    world.gateway.answerNext({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rejected: [phone.pushkey] }) });
    await send(alice, channelId, 'ping @bob', { mentionIds: [bob.id] });
    await waitUntil(async () => (await bob.run(PushRegistrationsDocument)).me.pushRegistrations.length === 1, 'the pusher to be removed');
    expect((await bob.run(PushRegistrationsDocument)).me.pushRegistrations).toEqual([expect.objectContaining({ deviceId: browser.deviceId, kind: 'WEB_PUSH' })]);
    expect(phone.requests()).toHaveLength(1);
  });

  it('retries after a 5xx and a 429 (not before its Retry-After), and tells each device once', async () => {
    const { alice, bob, browser, phone, channelId } = await aliceAndBob();
    const retried = await pushCount(server, 'retried');
    world.gateway.answerNext({ status: 503 }, { status: 429, headers: { 'retry-after': '2' } });
    const message = await send(alice, channelId, 'the build is red @bob', { mentionIds: [bob.id] });
    await waitUntil(() => phone.requests().some((r) => r.status === 200), 'the gateway to take it at the third attempt', { timeoutMs: 30_000 });
    const attempts = phone.requests();
    expect(attempts.map((r) => r.status)).toEqual([503, 429, 200]);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(2000);
    expect(phone.notifications().map((n) => n.event_id)).toEqual([message.id, message.id, message.id]);
    expect(browser.requests()).toHaveLength(1);
    expect(await pushCount(server, 'retried')).toBe(retried + 2);
  });
});
