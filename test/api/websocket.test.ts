// The WebSocket transport: subscription events are written straight to each socket, so these
// check what a client sees on the wire: graphql-transport-ws frames with the operation's own id,
// operations of one connection kept apart, order kept, and nothing held after a client leaves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageAddedDocument, RemoveChannelMemberDocument } from '../../operations/generated/graphql.ts';
import { Subscription, quietFor, rawConnection, wsClient } from '../support/client.ts';
import { metricValue } from '../support/metrics.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';
import { channelOf, organizationWith, send } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

type Added = { messageAdded: { seq: number; text: string } };
const TEXT_ONLY = 'subscription($c: ID!, $after: Int) { messageAdded(channelId: $c, afterSeq: $after) { seq text } }';
const WITH_BADGE = `subscription($c: ID!, $after: Int) {
  messageAdded(channelId: $c, afterSeq: $after) { seq text author { name } channel { unreadCount } }
}`;

const metric = (name: string) => metricValue(server, name);

describe('subscriptions over the WebSocket', () => {
  it('sends each subscriber a text frame with its own operation id around the same result', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const connections = [await rawConnection(server, bob!.token), await rawConnection(server, cat!.token)];
    const ids = ['bob-op-1', 'cat "quoted" op'];
    connections.forEach(({ socket }, i) =>
      socket.send(JSON.stringify({ id: ids[i], type: 'subscribe', payload: { query: TEXT_ONLY, variables: { c: world.generalId, after: 0 } } })),
    );
    await send(ann!, world.generalId, 'hello both');
    for (const { frames } of connections) await waitUntil(() => frames.length >= 2, 'the message');
    const nexts = connections.map(({ frames }) => JSON.parse(frames[1]!) as { id: string; type: string; payload: unknown });
    expect(nexts.map((n) => n.id)).toEqual(ids);
    expect(nexts.map((n) => n.type)).toEqual(['next', 'next']);
    expect(nexts[0]!.payload).toEqual({ data: { messageAdded: { seq: 1, text: 'hello both' } } });
    expect(nexts[1]!.payload).toEqual(nexts[0]!.payload);
    for (const { socket } of connections) socket.close();
  });

  it('keeps the operations of one connection apart, and completing one stops only that one', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const ops = await channelOf(world, ann!, 'ops', [bob!]);
    const client = wsClient(server.wsUrl, bob!.token);
    const general = new Subscription<Added>(client, MessageAddedDocument, { channelId: world.generalId, afterSeq: 0 });
    const opsStream = new Subscription<Added>(client, MessageAddedDocument, { channelId: ops, afterSeq: 0 });
    const badged = new Subscription<Added & { messageAdded: { channel: { unreadCount: number } } }>(client, WITH_BADGE, {
      c: world.generalId,
      after: 0,
    });
    await send(ann!, world.generalId, 'g1');
    await send(ann!, ops, 'o1');
    expect((await general.waitFor(1)).map((e) => e.messageAdded.text)).toEqual(['g1']);
    expect((await opsStream.waitFor(1)).map((e) => e.messageAdded.text)).toEqual(['o1']);
    expect((await badged.waitFor(1))[0]!.messageAdded).toMatchObject({ text: 'g1', channel: { unreadCount: 1 } });

    general.stop();
    await send(ann!, world.generalId, 'g2');
    await badged.waitFor(2);
    await quietFor(100);
    expect(general.events.map((e) => e.messageAdded.text)).toEqual(['g1']);
    expect(badged.events.map((e) => e.messageAdded.text)).toEqual(['g1', 'g2']);
    expect(opsStream.events).toHaveLength(1);
    await client.dispose();
  });

  it('keeps a burst in seq order when each event is resolved with store reads', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    // One request of 40 sends: they are stored and published back to back.
    const sends = Array.from({ length: 40 }, (_, i) => `m${i}: sendMessage(input: { channelId: $c, text: "burst ${i}" }) { seq }`);
    const client = wsClient(server.wsUrl, bob!.token);
    const stream = new Subscription<Added>(client, WITH_BADGE, { c: world.generalId, after: 0 });
    await ann!.run(`mutation($c: ID!) { ${sends.join('\n')} }`, { c: world.generalId });
    const events = await stream.waitFor(40);
    expect(events.map((e) => e.messageAdded.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    await client.dispose();
  });

  it('holds nothing for connections that have gone: subscriptions, channel feeds, connections', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const ops = await channelOf(world, ann!, 'ops', [bob!, cat!]);
    const before = {
      subscriptions: await metric('chat_subscriptions'),
      connections: await metric('chat_ws_connections'),
      feeds: await metric('chat_channel_feeds'),
    };
    const clients = [bob!, cat!, bob!, cat!].map((user) => wsClient(server.wsUrl, user.token));
    const streams = clients.flatMap((client) => [
      new Subscription<Added>(client, MessageAddedDocument, { channelId: world.generalId, afterSeq: 0 }),
      new Subscription<Added>(client, WITH_BADGE, { c: ops, after: 0 }),
    ]);
    await send(ann!, world.generalId, 'to general');
    await send(ann!, ops, 'to ops');
    await Promise.all(streams.map((stream) => stream.waitFor(1)));
    expect(await metric('chat_subscriptions')).toBe(before.subscriptions + 8);
    expect(await metric('chat_ws_connections')).toBe(before.connections + 4);
    expect(await metric('chat_channel_feeds')).toBe(before.feeds + 2);

    // Streams the server ends (cat leaves ops) let go at once, while their connections stay.
    await ann!.run(RemoveChannelMemberDocument, { input: { channelId: ops, userId: cat!.id } });
    const catsOps = [streams[3]!, streams[7]!];
    await Promise.all(catsOps.map((stream) => stream.settled()));
    expect(catsOps.map((stream) => JSON.stringify(stream.errors))).toEqual([expect.stringContaining('FORBIDDEN'), expect.stringContaining('FORBIDDEN')]);
    await waitUntil(async () => (await metric('chat_subscriptions')) === before.subscriptions + 6, "cat's ops streams to end");

    await Promise.all(clients.map((client) => client.dispose()));
    await waitUntil(async () => (await metric('chat_ws_connections')) === before.connections, 'the connections to close');
    await waitUntil(async () => (await metric('chat_subscriptions')) === before.subscriptions, 'the subscriptions to end');
    expect(await metric('chat_channel_feeds')).toBe(before.feeds);
  });

  it('starts the operations of one connection in the order sent: a message sent right after subscribing reaches the subscription', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { bob } = world.users;
    const { socket, frames } = await rawConnection(server, bob!.token);
    const SEND = 'mutation($c: ID!, $t: String!) { sendMessage(input: { channelId: $c, text: $t }) { seq } }';
    // Subscribe without afterSeq ("from now on"), then send at once on the same connection, as a
    // client that must not miss its own message would: the send must not overtake the subscription.
    for (let round = 1; round <= 10; round++) {
      socket.send(JSON.stringify({ id: `sub${round}`, type: 'subscribe', payload: { query: TEXT_ONLY, variables: { c: world.generalId } } }));
      socket.send(JSON.stringify({ id: `send${round}`, type: 'subscribe', payload: { query: SEND, variables: { c: world.generalId, t: `round ${round}` } } }));
      const sent = `{"id":"send${round}","type":"next","payload":{"data":{"sendMessage":{"seq":${round}}}}}`;
      await waitUntil(() => frames.includes(sent), `the send of round ${round}`);
      await waitUntil(
        () => frames.some((frame) => frame.startsWith(`{"id":"sub${round}","type":"next"`)),
        `round ${round}'s message on the subscription made just before`,
      );
    }
    socket.close();
  });

  it('closes a connection that sends an oversized message (1009), and goes on serving others', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const abuser = await rawConnection(server, bob!.token);
    const padding = ' '.repeat(300 * 1024);
    abuser.socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `${padding}{ me { id } }` } }));
    expect(await abuser.closed).toBe(1009);

    const client = wsClient(server.wsUrl, bob!.token);
    const stream = new Subscription<Added>(client, MessageAddedDocument, { channelId: world.generalId, afterSeq: 0 });
    await send(ann!, world.generalId, 'still serving');
    expect((await stream.waitFor(1))[0]!.messageAdded.text).toBe('still serving');
    await client.dispose();
  });
});

describe('a client that stops reading', () => {
  let slow: TestServer;
  beforeAll(async () => {
    slow = await startServer({ SEND_RATE_LIMIT: '100000' });
  });
  afterAll(async () => slow?.stop());

  it('is closed with 1013 once its backlog passes the limit, and resumes with afterSeq losing nothing', async () => {
    const world = await organizationWith(slow.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const { socket, frames, closed } = await rawConnection(slow, bob!.token);
    socket.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: TEXT_ONLY, variables: { c: world.generalId, after: 0 } } }));
    await send(ann!, world.generalId, 'first');
    await waitUntil(() => frames.length === 2, 'the first message');

    // The phone stalls: nothing is read while 3,000 long messages (12 MB, more than the kernel's
    // socket buffers on loopback hold) are sent to the channel.
    socket.pause();
    const text = 'x'.repeat(4000);
    const batch = Array.from({ length: 50 }, (_, i) => `m${i}: sendMessage(input: { channelId: $c, text: $t }) { seq }`).join('\n');
    for (let i = 0; i < 60; i++) await ann!.run(`mutation($c: ID!, $t: String!) { ${batch} }`, { c: world.generalId, t: text });
    const total = 1 + 60 * 50;
    socket.resume();
    expect(await closed).toBe(1013);
    const seqs = frames
      .map((frame) => JSON.parse(frame) as { type: string; payload?: { data: Added } })
      .filter((message) => message.type === 'next')
      .map((message) => message.payload!.data.messageAdded.seq);
    // It got an unbroken run of messages, not all of them...
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(seqs.length).toBeLessThan(total);

    // ...and a reconnect resuming after the last one it has gets exactly the rest.
    const client = wsClient(slow.wsUrl, bob!.token);
    const resumed = new Subscription<Added>(client, MessageAddedDocument, { channelId: world.generalId, afterSeq: seqs.at(-1)! });
    const rest = await resumed.waitFor(total - seqs.length);
    expect(rest.map((e) => e.messageAdded.seq)).toEqual(Array.from({ length: total - seqs.length }, (_, i) => seqs.length + i + 1));
    await client.dispose();
  });
});
