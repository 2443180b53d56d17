// Live delivery over graphql-ws: messages arrive in seq order, a resumed subscription gets exactly
// what it missed and then live ones, and queries and mutations work over the WebSocket too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageAddedDocument, RemoveChannelMemberDocument, SendMessageDocument } from '../../operations/generated/graphql.ts';
import { Subscription, quietFor, wsClient } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { channelOf, organizationWith, send } from '../support/world.ts';

type Added = { messageAdded: { seq: number; text: string; author: { name: string } } };

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

describe('messageAdded', () => {
  it('delivers each message to a connected member with its seq, in order', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const client = wsClient(server.wsUrl, bob!.token);
    // afterSeq 0 makes the start certain: whatever is sent before the server has set up the
    // subscription is replayed, so the test never races it.
    const subscription = new Subscription<Added>(client, MessageAddedDocument, { channelId: world.generalId, afterSeq: 0 });
    for (let i = 1; i <= 5; i++) await send(ann!, world.generalId, `m${i}`);
    const events = await subscription.waitFor(5);
    expect(events.map((e) => [e.messageAdded.seq, e.messageAdded.text, e.messageAdded.author.name])).toEqual([
      [1, 'm1', 'ann'],
      [2, 'm2', 'ann'],
      [3, 'm3', 'ann'],
      [4, 'm4', 'ann'],
      [5, 'm5', 'ann'],
    ]);
    await client.dispose();
  });

  it('resumes after a seq: exactly the missed messages, then live ones, no gap and no duplicate', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    for (let i = 1; i <= 30; i++) await send(ann!, world.generalId, `before ${i}`);
    const client = wsClient(server.wsUrl, bob!.token);
    const subscription = new Subscription<Added>(client, MessageAddedDocument, { channelId: world.generalId, afterSeq: 12 });
    // Messages keep coming while the missed ones are replayed.
    const sending = (async () => {
      for (let i = 31; i <= 60; i++) await send(ann!, world.generalId, `during ${i}`);
    })();
    await sending;
    const events = await subscription.waitFor(48);
    expect(events.map((e) => e.messageAdded.seq)).toEqual(Array.from({ length: 48 }, (_, i) => 13 + i));
    await quietFor(200);
    expect(subscription.events).toHaveLength(48);
    await client.dispose();
  });

  it('replays more than a page of history (afterSeq 0)', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    for (let i = 1; i <= 99; i++) await send(i % 2 ? ann! : bob!, world.generalId, `m${i}`);
    const client = wsClient(server.wsUrl, bob!.token);
    const subscription = new Subscription<Added>(client, MessageAddedDocument, { channelId: world.generalId, afterSeq: 0 });
    await subscription.waitFor(99);
    await send(ann!, world.generalId, 'live one');
    const events = await subscription.waitFor(100);
    expect(events.map((e) => e.messageAdded.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(events.at(-1)?.messageAdded.text).toBe('live one');
    await client.dispose();
  });

  it('refuses a negative afterSeq and an organization member outside the channel', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const ops = await channelOf(world, ann!, 'ops', []);
    const client = wsClient(server.wsUrl, bob!.token);
    const negative = new Subscription(client, MessageAddedDocument, { channelId: world.generalId, afterSeq: -1 });
    const outside = new Subscription(client, MessageAddedDocument, { channelId: ops });
    await Promise.all([negative.settled(), outside.settled()]);
    expect(JSON.stringify(negative.errors)).toContain('BAD_USER_INPUT');
    expect(JSON.stringify(outside.errors)).toContain('FORBIDDEN');
    await client.dispose();
  });
  it('ends a member\'s stream when they are removed from the channel, and sends nothing after', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const ops = await channelOf(world, ann!, 'ops', [bob!]);
    const client = wsClient(server.wsUrl, bob!.token);
    const subscription = new Subscription<Added>(client, MessageAddedDocument, { channelId: ops, afterSeq: 0 });
    await send(ann!, ops, 'still here');
    await subscription.waitFor(1);
    await ann!.run(RemoveChannelMemberDocument, { input: { channelId: ops, userId: bob!.id } });
    await subscription.settled();
    expect(JSON.stringify(subscription.errors)).toContain('FORBIDDEN');
    await send(ann!, ops, 'after bob left');
    await quietFor(200);
    expect(subscription.events.map((e) => e.messageAdded.text)).toEqual(['still here']);
    await client.dispose();
  });
});

describe('over the WebSocket', () => {
  it('runs queries and mutations with the connection\'s identity', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const client = wsClient(server.wsUrl, world.users.ann!.token);
    const me = new Subscription<{ me: { name: string } }>(client, '{ me { name } }');
    const sent = new Subscription<{ sendMessage: { seq: number } }>(client, SendMessageDocument, {
      input: { channelId: world.generalId, text: 'over ws' },
    });
    expect((await me.waitFor(1))[0]).toEqual({ me: { name: 'ann' } });
    expect((await sent.waitFor(1))[0]?.sendMessage.seq).toBe(1);
    await client.dispose();
  });
});
