// The viewer's event stream: read state synchronized across devices, delivery status of direct
// messages told to their author, and joining a channel widening the stream without reconnecting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcknowledgeDeliveryDocument,
  AddChannelMemberDocument,
  MarkChannelReadDocument,
  MessageStatusDocument,
  ViewerEventsDocument,
  type ViewerEventsSubscription,
} from '../../operations/generated/graphql.ts';
import { Subscription, quietFor, wsClient } from '../support/client.ts';
import { eventOn, openStream } from '../support/viewer-events.ts';
import { metricSum } from '../support/metrics.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { channelOf, directChannel, organizationWith, send } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

describe('viewerEvents', () => {
  it('clears a badge on the phone when the laptop reads', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const ping = () => send(ann!, world.generalId, 'ping');
    const phone = await openStream(server.wsUrl, bob!.token, 'phone', ping);
    const arrived = await eventOn(phone.stream, (e) => e.__typename === 'MessageAddedEvent');
    expect(arrived.__typename === 'MessageAddedEvent' && arrived.channel.unreadCount).toBeGreaterThan(0);

    await bob!.run(MarkChannelReadDocument, { input: { channelId: world.generalId } }); // on the laptop
    const read = await eventOn(phone.stream, (e) => e.__typename === 'ChannelReadEvent');
    expect(read.__typename === 'ChannelReadEvent' && read.channel).toMatchObject({
      id: world.generalId,
      unreadCount: 0,
      mentionCount: 0,
      hasUnread: false,
    });
    await phone.client.dispose();
  });

  it('clears the badge on the laptop when the phone reads over its WebSocket', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const laptop = await openStream(server.wsUrl, bob!.token, 'laptop', () => send(ann!, world.generalId, 'ping'));
    const phone = wsClient(server.wsUrl, bob!.token, 'phone');
    const read = new Subscription<{ markChannelRead: { unreadCount: number } }>(phone, MarkChannelReadDocument, {
      input: { channelId: world.generalId },
    });
    expect((await read.waitFor(1))[0]?.markChannelRead.unreadCount).toBe(0);
    const event = await eventOn(laptop.stream, (e) => e.__typename === 'ChannelReadEvent');
    expect(event.__typename === 'ChannelReadEvent' && event.channel).toMatchObject({ id: world.generalId, unreadCount: 0 });
    await Promise.all([phone.dispose(), laptop.client.dispose()]);
  });

  it('carries each new message with the channel\'s counts for this viewer', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const room = await channelOf(world, ann!, 'room', [bob!]);
    const { client, stream } = await openStream(server.wsUrl, bob!.token, 'phone', () => send(ann!, world.generalId, 'ping'));
    await send(ann!, room, 'hey @bob', { mentionIds: [bob!.id] });
    await send(ann!, room, 'you there?');
    const second = await eventOn(stream, (e) => e.__typename === 'MessageAddedEvent' && e.message.text === 'you there?');
    expect(second.__typename === 'MessageAddedEvent' && second.channel).toMatchObject({ id: room, unreadCount: 2, mentionCount: 1 });
    await client.dispose();
  });

  it('tells the author of a direct message each step: SENT → DELIVERED → SEEN', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const dm = await directChannel(world, ann!, bob!);
    const { client, stream } = await openStream(server.wsUrl, ann!.token, 'ann-phone', () => send(bob!, dm, 'hi ann'));
    const message = await send(ann!, dm, 'are you coming?');
    const status = async () => (await ann!.run(MessageStatusDocument, { id: message.id })).node;
    expect(await status()).toMatchObject({ status: 'SENT', deliveredCount: 0, readCount: 0 });

    await bob!.run(AcknowledgeDeliveryDocument, { input: { channelId: dm, throughSeq: message.seq } });
    const delivered = await eventOn(stream, (e) => e.__typename === 'MessageStatusEvent' && e.message.status === 'DELIVERED');
    expect(delivered.__typename === 'MessageStatusEvent' && delivered.message).toMatchObject({
      id: message.id,
      deliveredCount: 1,
      readCount: 0,
    });

    await bob!.run(MarkChannelReadDocument, { input: { channelId: dm } });
    const seen = await eventOn(stream, (e) => e.__typename === 'MessageStatusEvent' && e.message.status === 'SEEN');
    expect(seen.__typename === 'MessageStatusEvent' && seen.message).toMatchObject({ id: message.id, readCount: 1 });
    expect(await status()).toMatchObject({ status: 'SEEN', deliveredCount: 1, readCount: 1 });
    await client.dispose();
  });

  it('starts carrying a channel\'s messages once the viewer is added to it, on the open stream', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const ops = await channelOf(world, ann!, 'ops', []);
    const { client, stream } = await openStream(server.wsUrl, bob!.token, 'laptop', () => send(ann!, world.generalId, 'ping'));
    await send(ann!, ops, 'before bob joined');
    await ann!.run(AddChannelMemberDocument, { input: { channelId: ops, userId: bob!.id } });
    // Sent at once, before the stream can have started following ops: it must arrive all the same.
    await send(ann!, ops, 'welcome bob');
    const joined = await eventOn(stream, (e) => e.__typename === 'ChannelMembershipEvent');
    expect(joined.__typename === 'ChannelMembershipEvent' && joined).toMatchObject({ joined: true, channel: { id: ops, name: 'ops' } });
    const welcome = await eventOn(stream, (e) => e.__typename === 'MessageAddedEvent' && e.message.text === 'welcome bob');
    expect(welcome.__typename === 'MessageAddedEvent' && welcome.channel.id).toBe(ops);
    await quietFor(100);
    const texts = stream.events.map((e) => (e.viewerEvents.__typename === 'MessageAddedEvent' ? e.viewerEvents.message.text : null));
    expect(texts).not.toContain('before bob joined');
    await client.dispose();
  });

  it('opens for a viewer in many channels with a handful of store reads, not one per channel', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    for (let i = 0; i < 40; i++) await channelOf(world, ann!, `c${i}`, [bob!]);
    const channelReads = () => metricSum(server, 'chat_store_calls_total', /^method="findChannelsByIds"$/);
    const before = await channelReads();
    const { client } = await openStream(server.wsUrl, bob!.token, 'laptop', () => send(ann!, world.generalId, 'ping'));
    // 41 channels to follow; their positions are read together.
    expect((await channelReads()) - before).toBeLessThan(10);
    await client.dispose();
  });
});

describe('viewerEvents in a big channel', () => {
  // Store reads only: writes in the background (a device going offline long after its test) would blur the count.
  const storeReads = () => metricSum(server, 'chat_store_calls_total', /^method="(find|list|count)/);

  /** Every member of #general watching their stream; one message; what each saw and the store reads it took. */
  async function oneMessageTo(memberCount: number) {
    const names = Array.from({ length: memberCount }, (_, i) => `m${i}`);
    const world = await organizationWith(server.url, names);
    const members = names.map((name) => world.users[name]!);
    const [author, ...readers] = members;
    const devices = readers.map((member) => {
      const client = wsClient(server.wsUrl, member.token, 'phone');
      return { member, client, stream: new Subscription<ViewerEventsSubscription>(client, ViewerEventsDocument) };
    });
    // Until every stream has carried a message, they have not all started.
    let pings = 0;
    for (; devices.some((d) => d.stream.events.length === 0); pings++) {
      if (pings > 40) throw new Error('the streams never started');
      await send(author!, world.generalId, 'ping');
      await Promise.all(devices.map((d) => d.stream.waitFor(1, 250).catch(() => {})));
    }
    // Every other member has read up to here; every third is mentioned in the next message.
    const reading = devices.filter((_, i) => i % 2 === 0);
    for (const { member } of reading) await member.run(MarkChannelReadDocument, { input: { channelId: world.generalId } });
    const mentioned = devices.filter((_, i) => i % 3 === 0).map((d) => d.member.id);
    // Read markers moving are events too: wait until they are all out before counting.
    await Promise.all(reading.map(({ stream }) => eventOn(stream, (e) => e.__typename === 'ChannelReadEvent')));
    const before = await storeReads();
    const message = await send(author!, world.generalId, 'for everyone', { mentionIds: mentioned });
    const badges = await Promise.all(
      devices.map(async ({ stream }) => {
        const event = await eventOn(stream, (e) => e.__typename === 'MessageAddedEvent' && e.message.id === message.id);
        return event.__typename === 'MessageAddedEvent' ? event.channel : null;
      }),
    );
    const reads = (await storeReads()) - before;
    await Promise.all(devices.map((d) => d.client.dispose()));
    return { devices, reading, mentioned, badges, reads, pings };
  }

  it('gives each member their own badge counts, in store reads that do not grow with the members', async () => {
    const small = await oneMessageTo(6);
    const big = await oneMessageTo(40);
    for (const { devices, reading, mentioned, badges, pings } of [small, big]) {
      devices.forEach((device, i) => {
        expect(badges[i]).toMatchObject({
          unreadCount: (reading.includes(device) ? 0 : pings) + 1,
          mentionCount: mentioned.includes(device.member.id) ? 1 : 0,
        });
      });
    }
    expect(big.reads).toBeLessThanOrEqual(small.reads + 2);
  });
});
