// Fan-out cost: subscribers of a channel with the same document share one execution per message,
// while fields that depend on the viewer are still computed for each of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageAddedDocument } from '../../operations/generated/graphql.ts';
import { Subscription, quietFor, wsClient } from '../support/client.ts';
import { metricValue } from '../support/metrics.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { organizationWith, send } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

const executions = () => metricValue(server, 'chat_subscription_executions_total');

const WITH_BADGE = `subscription($c: ID!) { messageAdded(channelId: $c) { seq text channel { unreadCount } } }`;

describe('subscription fan-out', () => {
  it('executes a message once for all subscribers of the same document, with the same result', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat', 'dan', 'eve']);
    const names = ['bob', 'cat', 'dan', 'eve'] as const;
    const clients = names.map((name) => wsClient(server.wsUrl, world.users[name]!.token));
    const streams = clients.map((client) => new Subscription<{ messageAdded: { seq: number; text: string } }>(client, MessageAddedDocument, { channelId: world.generalId }));
    // Wait until every stream is live: each has received the first message.
    for (let i = 0; !streams.every((s) => s.events.length > 0); i++) {
      await send(world.users.ann!, world.generalId, `warm-up ${i}`);
      await Promise.all(streams.map((s) => s.waitFor(1, 300).catch(() => {})));
    }
    await quietFor(200); // let the last warm-up message reach everyone before counting
    const seen = streams.map((s) => s.events.length);
    const before = await executions();
    await send(world.users.ann!, world.generalId, 'for everyone');
    const last = await Promise.all(streams.map(async (s, i) => (await s.waitFor(seen[i]! + 1)).at(-1)));
    expect(last.map((e) => e?.messageAdded.text)).toEqual(['for everyone', 'for everyone', 'for everyone', 'for everyone']);
    expect((await executions()) - before).toBe(1);
    await Promise.all(clients.map((c) => c.dispose()));
  });

  it('computes viewer-specific fields for each subscriber', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    await send(ann!, world.generalId, 'one');
    await send(ann!, world.generalId, 'two');
    await cat!.run(`mutation($c: ID!) { markChannelRead(input: { channelId: $c }) { id } }`, { c: world.generalId });
    const clients = [bob!, cat!].map((u) => wsClient(server.wsUrl, u.token));
    const [bobs, cats] = clients.map(
      (client) => new Subscription<{ messageAdded: { text: string; channel: { unreadCount: number } } }>(client, WITH_BADGE, { c: world.generalId }),
    );
    for (let i = 0; bobs!.events.length === 0 || cats!.events.length === 0; i++) {
      await send(ann!, world.generalId, `warm-up ${i}`);
      await Promise.all([bobs!, cats!].map((s) => s.waitFor(1, 300).catch(() => {})));
    }
    await quietFor(200);
    const [bobSeen, catSeen] = [bobs!.events.length, cats!.events.length];
    const before = await executions();
    await send(ann!, world.generalId, 'count me');
    const bobLast = (await bobs!.waitFor(bobSeen + 1)).at(-1)!;
    const catLast = (await cats!.waitFor(catSeen + 1)).at(-1)!;
    expect(bobLast.messageAdded.text).toBe('count me');
    // bob never read: everything ann sent is unread; cat read the first two.
    expect(bobLast.messageAdded.channel.unreadCount - catLast.messageAdded.channel.unreadCount).toBe(2);
    expect((await executions()) - before).toBe(2);
    await Promise.all(clients.map((c) => c.dispose()));
  });
});
