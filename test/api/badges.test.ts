// Badges on app open: unread and mention counts per channel, exact, from the message log and the
// read markers; one request costs the same number of store calls whatever the number of channels.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AcknowledgeDeliveryDocument,
  MarkChannelReadDocument,
  OrganizationChannelsDocument,
} from '../../operations/generated/graphql.ts';
import { codes } from '../support/client.ts';
import { metricSum } from '../support/metrics.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { type Member, type World, channelOf, organizationWith, send } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ SEND_RATE_LIMIT: '100000', CHANNEL_RATE_LIMIT: '100000' });
});
afterAll(async () => server?.stop());

async function badges(user: Member, world: World) {
  const result = await user.run(OrganizationChannelsDocument, { organizationId: world.orgId, first: 1000 });
  return Object.fromEntries(
    result.organization!.channels.edges.map((e) => [
      e.node.id,
      { unread: e.node.unreadCount, mentions: e.node.mentionCount, hasUnread: e.node.hasUnread, lastReadSeq: e.node.lastReadSeq },
    ]),
  );
}

describe('unread and mention counts', () => {
  it('are exact for each member when the app opens; one\'s own messages never count', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const room = await channelOf(world, ann!, 'room', [bob!, cat!]);
    await send(ann!, room, 'morning'); // 1
    await send(bob!, room, '@cat can you look?', { mentionIds: [cat!.id] }); // 2
    await send(ann!, room, '@channel release at 5', { mentionsChannel: true }); // 3
    await send(cat!, room, 'on it @bob', { mentionIds: [bob!.id] }); // 4
    await send(bob!, room, '@cat @ann thanks', { mentionIds: [cat!.id, ann!.id] }); // 5

    // ann read through her own 3: 4 and 5 are unread, 5 mentions her.
    expect((await badges(ann!, world))[room]).toEqual({ unread: 2, mentions: 1, hasUnread: true, lastReadSeq: 3 });
    // bob's marker is at 5 (his own last message): nothing unread although 3 and 4 mention him.
    expect((await badges(bob!, world))[room]).toEqual({ unread: 0, mentions: 0, hasUnread: false, lastReadSeq: 5 });
    // cat read through 4 (her own): 5 is unread and mentions her.
    expect((await badges(cat!, world))[room]).toEqual({ unread: 1, mentions: 1, hasUnread: true, lastReadSeq: 4 });

    await send(ann!, room, '@channel one more', { mentionsChannel: true }); // 6
    await send(bob!, room, 'and @cat', { mentionIds: [cat!.id] }); // 7
    expect((await badges(cat!, world))[room]).toEqual({ unread: 3, mentions: 3, hasUnread: true, lastReadSeq: 4 });
    expect((await badges(ann!, world))[room]).toEqual({ unread: 1, mentions: 0, hasUnread: true, lastReadSeq: 6 });
  });

  it('clear when read; the read marker never moves backwards', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    for (let i = 0; i < 5; i++) await send(ann!, world.generalId, `m${i}`, { mentionIds: [bob!.id] });
    const partly = await bob!.run(MarkChannelReadDocument, { input: { channelId: world.generalId, throughSeq: 3 } });
    expect(partly.markChannelRead).toMatchObject({ unreadCount: 2, mentionCount: 2, lastReadSeq: 3 });
    const back = await bob!.run(MarkChannelReadDocument, { input: { channelId: world.generalId, throughSeq: 1 } });
    expect(back.markChannelRead).toMatchObject({ unreadCount: 2, lastReadSeq: 3 });
    const all = await bob!.run(MarkChannelReadDocument, { input: { channelId: world.generalId } });
    expect(all.markChannelRead).toMatchObject({ unreadCount: 0, mentionCount: 0, hasUnread: false, lastReadSeq: 5 });
  });

  it('refuses markers past the newest message or below zero, changing nothing', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    await send(ann!, world.generalId, 'one');
    for (const throughSeq of [2, -1]) {
      const read = await bob!.request(MarkChannelReadDocument, { input: { channelId: world.generalId, throughSeq } });
      expect(read.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'throughSeq' });
      const ack = await bob!.request(AcknowledgeDeliveryDocument, { input: { channelId: world.generalId, throughSeq } });
      expect(codes(ack)).toEqual(['BAD_USER_INPUT']);
    }
    expect((await badges(bob!, world))[world.generalId]).toMatchObject({ unread: 1, lastReadSeq: 0 });
  });
});

describe('app open', () => {
  /** Sum of the store calls the server has made so far, read from /metrics as an operator would. */
  const storeCalls = () => metricSum(server, 'chat_store_calls_total');

  async function orgWithChannels(count: number) {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    for (let i = 0; i < count; i++) {
      const channel = await channelOf(world, bob!, `c${i}`, [ann!]);
      await send(bob!, channel, `hello @ann ${i}`, { mentionIds: [ann!.id] });
    }
    return world;
  }

  it('lists N channels with their counts in a constant number of store calls (N = 10 and N = 500)', async () => {
    const small = await orgWithChannels(10);
    const large = await orgWithChannels(500);
    const callsFor = async (world: World) => {
      const before = await storeCalls();
      const counts = await badges(world.users.ann!, world);
      const calls = (await storeCalls()) - before;
      return { calls, counts };
    };
    const ten = await callsFor(small);
    const fiveHundred = await callsFor(large);
    expect(Object.keys(ten.counts)).toHaveLength(11);
    expect(Object.keys(fiveHundred.counts)).toHaveLength(501);
    const mentioned = Object.values(fiveHundred.counts).filter((c) => c.unread === 1 && c.mentions === 1);
    expect(mentioned).toHaveLength(500);
    expect(fiveHundred.calls).toBe(ten.calls);
    expect(ten.calls).toBeLessThanOrEqual(8);
  });
});
