// Mentions from the text: @name (the user's handle, any case) mentions that member of the channel,
// counts in the member's badge and is listed in the message's mentions; other @words stay text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrganizationChannelsDocument } from '../../operations/generated/graphql.ts';
import { metricSum } from '../support/metrics.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { type Member, type World, channelOf, organizationWith, send } from '../support/world.ts';

const MENTIONS_MAX = 5;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ MENTIONS_MAX: String(MENTIONS_MAX) });
});
afterAll(async () => server?.stop());

async function mentionCount(user: Member, world: World, channelId: string) {
  const result = await user.run(OrganizationChannelsDocument, { organizationId: world.orgId, first: 100 });
  return result.organization!.channels.edges.find((e) => e.node.id === channelId)!.node.mentionCount;
}

const ids = (mentions: { id: string }[]) => mentions.map((m) => m.id);

describe('@name in a message', () => {
  it('mentions that member: "hello @bob" gives Bob a mention badge', async () => {
    const world = await organizationWith(server.url, ['Alice', 'Bob']);
    const { Alice: alice, Bob: bob } = world.users;
    const message = await send(alice!, world.generalId, 'hello @bob');
    expect(ids(message.mentions)).toEqual([bob!.id]);
    expect(await mentionCount(bob!, world, world.generalId)).toBe(1);
    expect(await mentionCount(alice!, world, world.generalId)).toBe(0);
  });

  it('matches names in any case and around punctuation, in the order the text names them', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat', 'dan']);
    const { ann, bob, cat, dan } = world.users;
    const message = await send(ann!, world.generalId, '(@DAN) thanks, @Cat: and @bob.');
    expect(ids(message.mentions)).toEqual([dan!.id, cat!.id, bob!.id]);
    expect(await mentionCount(bob!, world, world.generalId)).toBe(1);
  });

  it('leaves names of non-members, unknown names, e-mail addresses and longer words as text', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const room = await channelOf(world, ann!, 'room', [bob!]);
    const message = await send(ann!, room, 'ask @cat or @nobody; mail bob@example.com, not @bobby or x@bob');
    expect(message.mentions).toEqual([]);
    expect(await mentionCount(bob!, world, room)).toBe(0);
    expect(await mentionCount(cat!, world, world.generalId)).toBe(0);
  });

  it('merges with mentionIds, each member once; @channel mentions the channel as before', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const message = await send(ann!, world.generalId, '@bob @channel look', { mentionIds: [cat!.id, bob!.id] });
    expect(ids(message.mentions)).toEqual([cat!.id, bob!.id]);
    expect(message.mentionsChannel).toBe(true);
    expect(await mentionCount(bob!, world, world.generalId)).toBe(1);
  });

  it(`looks up at most MENTIONS_MAX (${MENTIONS_MAX}) names, in one store read per message`, async () => {
    const names = ['ann', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
    const world = await organizationWith(server.url, names);
    const { ann } = world.users;
    const lookups = () => metricSum(server, 'chat_store_calls_total', /findChannelMembersByNames/);
    const before = await lookups();
    const message = await send(ann!, world.generalId, names.slice(1).map((n) => `@${n}`).join(' '));
    expect(await lookups()).toBe(before + 1);
    expect(ids(message.mentions)).toEqual(names.slice(1, 1 + MENTIONS_MAX).map((n) => world.users[n]!.id));
    const n7 = world.users.n7!;
    expect(await mentionCount(n7, world, world.generalId)).toBe(0);
  });
});
