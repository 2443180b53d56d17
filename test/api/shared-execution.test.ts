// Fan-out cost: subscribers of a channel with the same document share one execution per message;
// per-viewer counts are filled in for each subscriber from that one execution; a document that
// needs each viewer's own execution (access checks below it) still gets it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocumentNode } from 'graphql';
import { MessageAddedDocument, ViewerEventsDocument, type ViewerEventsSubscription } from '../../operations/generated/graphql.ts';
import { Subscription, quietFor, wsClient } from '../support/client.ts';
import { metricValue } from '../support/metrics.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { type Member, type World, directChannel, organizationWith, send } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

const executions = () => metricValue(server, 'chat_subscription_executions_total');

const WITH_BADGE = `subscription($c: ID!) { messageAdded(channelId: $c) { seq text channel { name unreadCount mentionCount hasUnread } } }`;
const WITH_LAST_MESSAGE = `subscription($c: ID!) { messageAdded(channelId: $c) { seq channel { lastMessage { seq } } } }`;

/** Streams of the same document for each user, live once each has received a warm-up message. */
async function liveStreams<T>(world: World, sender: Member, channelId: string, users: Member[], document: string | DocumentNode, variables?: Record<string, unknown>) {
  const clients = users.map((user) => wsClient(server.wsUrl, user.token));
  const streams = clients.map((client) => new Subscription<T>(client, document, variables));
  for (let i = 0; !streams.every((s) => s.events.length > 0); i++) {
    await send(sender, channelId, `warm-up ${i}`);
    await Promise.all(streams.map((s) => s.waitFor(1, 300).catch(() => {})));
  }
  await quietFor(200); // let the last warm-up message reach everyone before counting
  return { streams, close: () => Promise.all(clients.map((c) => c.dispose())) };
}

/** Sends one message and returns each stream's event for it, with the executions it took. */
async function oneMessage<T>(streams: Subscription<T>[], sendIt: () => Promise<unknown>) {
  const seen = streams.map((s) => s.events.length);
  const before = await executions();
  await sendIt();
  const last = await Promise.all(streams.map(async (s, i) => (await s.waitFor(seen[i]! + 1)).at(-1)!));
  return { last, executions: (await executions()) - before };
}

describe('subscription fan-out', () => {
  it('executes a message once for all subscribers of the same document, with the same result', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat', 'dan', 'eve']);
    const { ann, bob, cat, dan, eve } = world.users;
    const live = await liveStreams<{ messageAdded: { text: string } }>(world, ann!, world.generalId, [bob!, cat!, dan!, eve!], MessageAddedDocument, {
      channelId: world.generalId,
    });
    const { last, executions } = await oneMessage(live.streams, () => send(ann!, world.generalId, 'for everyone'));
    expect(last.map((e) => e.messageAdded.text)).toEqual(['for everyone', 'for everyone', 'for everyone', 'for everyone']);
    expect(executions).toBe(1);
    await live.close();
  });

  it("executes once and fills in each subscriber's own unread and mention counts", async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat', 'dan']);
    const { ann, bob, cat, dan } = world.users;
    await send(ann!, world.generalId, 'one');
    await send(ann!, world.generalId, 'two');
    await cat!.run(`mutation($c: ID!) { markChannelRead(input: { channelId: $c }) { id } }`, { c: world.generalId });
    type Event = { messageAdded: { text: string; channel: { name: string; unreadCount: number; mentionCount: number; hasUnread: boolean } } };
    const live = await liveStreams<Event>(world, ann!, world.generalId, [bob!, cat!, dan!], WITH_BADGE, { c: world.generalId });
    const { last, executions } = await oneMessage(live.streams, () => send(ann!, world.generalId, 'count me, dan', { mentionIds: [dan!.id] }));
    const [bobs, cats, dans] = last.map((e) => e.messageAdded.channel);
    expect(last.map((e) => e.messageAdded.text)).toEqual(['count me, dan', 'count me, dan', 'count me, dan']);
    // bob never read: everything ann sent is unread; cat read the first two.
    expect(bobs!.unreadCount - cats!.unreadCount).toBe(2);
    expect(cats!.hasUnread).toBe(true);
    expect([bobs!.mentionCount, cats!.mentionCount, dans!.mentionCount]).toEqual([0, 0, 1]);
    expect(executions).toBe(1);
    await live.close();
  });

  it("gives each member of a direct channel the other member's name, from one execution", async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const direct = await directChannel(world, ann!, bob!);
    type Event = { messageAdded: { channel: { name: string } } };
    const live = await liveStreams<Event>(world, ann!, direct, [ann!, bob!], WITH_BADGE, { c: direct });
    const { last, executions } = await oneMessage(live.streams, () => send(bob!, direct, 'hi ann'));
    expect(last.map((e) => e.messageAdded.channel.name)).toEqual(['bob', 'ann']);
    expect(executions).toBe(1);
    await live.close();
  });

  it('runs viewerEvents once per message for every member, each frame with its own counts', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    await send(ann!, world.generalId, 'before');
    await bob!.run(`mutation($c: ID!) { markChannelRead(input: { channelId: $c }) { id } }`, { c: world.generalId });
    const live = await liveStreams<ViewerEventsSubscription>(world, ann!, world.generalId, [bob!, cat!], ViewerEventsDocument);
    const { last, executions } = await oneMessage(live.streams, () => send(ann!, world.generalId, '@channel look', { mentionsChannel: true }));
    const channels = last.map((e) => (e.viewerEvents.__typename === 'MessageAddedEvent' ? e.viewerEvents.channel : null));
    const [bobs, cats] = channels;
    expect(cats!.unreadCount - bobs!.unreadCount).toBe(1); // bob read "before"; cat did not
    expect([bobs!.mentionCount, cats!.mentionCount]).toEqual([1, 1]);
    expect(executions).toBe(1);
    await live.close();
  });

  it('executes a document that reads below an access check once per subscriber', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    type Event = { messageAdded: { seq: number; channel: { lastMessage: { seq: number } | null } } };
    const live = await liveStreams<Event>(world, ann!, world.generalId, [bob!, cat!], WITH_LAST_MESSAGE, { c: world.generalId });
    const { last, executions } = await oneMessage(live.streams, () => send(ann!, world.generalId, 'newest'));
    expect(last.map((e) => e.messageAdded.channel.lastMessage?.seq)).toEqual(last.map((e) => e.messageAdded.seq));
    expect(executions).toBe(2);
    await live.close();
  });
});
