// Sending and reading messages: order, paging, idempotent retries, and every bad input refused
// with a clear code while nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChannelMessagesAfterDocument,
  ChannelMessagesDocument,
  OrganizationChannelsDocument,
  SendMessageDocument,
} from '../../operations/generated/graphql.ts';
import { codes } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { type Member, type World, channelOf, organizationWith, send } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

async function history(user: Member, channelId: string) {
  const page = await user.run(ChannelMessagesAfterDocument, { channelId, first: 100 });
  return page.channel!.messages.edges.map((e) => e.node);
}

describe('sending', () => {
  it('numbers messages 1, 2, 3 in the order sent and returns them with their author', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const first = await send(ann!, world.generalId, 'hello');
    const second = await send(bob!, world.generalId, 'hi ann');
    expect([first.seq, second.seq]).toEqual([1, 2]);
    expect(second).toMatchObject({ text: 'hi ann', author: { id: bob!.id, name: 'bob' }, mentionsChannel: false });
    expect(Date.parse(second.sentAt)).toBeGreaterThanOrEqual(Date.parse(first.sentAt));
  });

  it('stores a retried send with the same clientMessageId once', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const { ann } = world.users;
    const sends = await Promise.all(
      [1, 2, 3].map(() => send(ann!, world.generalId, 'only once', { clientMessageId: 'retry-1' })),
    );
    expect(new Set(sends.map((m) => m.id)).size).toBe(1);
    const later = await send(ann!, world.generalId, 'next', { clientMessageId: 'retry-2' });
    expect(later.seq).toBe(2);
    expect((await history(ann!, world.generalId)).map((m) => m.text)).toEqual(['only once', 'next']);
  });

  it('keeps mentions of members and @channel', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const direct = await send(ann!, world.generalId, 'ping @bob', { mentionIds: [bob!.id, bob!.id] });
    expect(direct.mentions).toEqual([{ id: bob!.id }]);
    const everyone = await send(ann!, world.generalId, 'hey @channel, standup');
    expect(everyone.mentionsChannel).toBe(true);
  });

  describe('refuses bad input with BAD_USER_INPUT naming the field, storing nothing', () => {
    let world: World;
    let outsiderChannel: string;
    beforeAll(async () => {
      world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
      outsiderChannel = await channelOf(world, world.users.ann!, 'private-talk', [world.users.bob!]);
    });

    it.each([
      ['blank text', () => ({ text: '   \n\t' }), 'text'],
      ['empty text', () => ({ text: '' }), 'text'],
      ['text over 4,000 characters', () => ({ text: 'x'.repeat(4001) }), 'text'],
      ['a mention of a non-member', () => ({ text: 'hi @cat', mentionIds: [world.users.cat!.id] }), 'mentionIds'],
      ['a mention that is not a user id', () => ({ text: 'hi', mentionIds: ['not-an-id'] }), 'mentionIds'],
      ['a channel id that is not an id', () => ({ channelId: 'garbage' }), 'channelId'],
      ['a channel id of another type', () => ({ channelId: world.orgId }), 'channelId'],
    ])('%s', async (_what, input, field) => {
      const ann = world.users.ann!;
      const result = await ann.request(SendMessageDocument, {
        input: { channelId: outsiderChannel, text: 'fine', ...input() },
      });
      expect(result.data).toBeNull();
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(await history(ann, outsiderChannel)).toEqual([]);
    });

    it('accepts exactly 4,000 characters', async () => {
      const message = await send(world.users.bob!, world.generalId, 'y'.repeat(4000));
      expect(message.text).toHaveLength(4000);
    });
  });
});

describe('reading', () => {
  it('pages 120 messages backwards from the newest, 50 at a time, in order', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    for (let i = 1; i <= 120; i++) await send(i % 2 ? ann! : bob!, world.generalId, `message ${i}`);
    const seqs: number[][] = [];
    let before: string | null | undefined;
    let hasPrevious = true;
    while (hasPrevious) {
      const page = await bob!.run(ChannelMessagesDocument, { channelId: world.generalId, last: 50, before });
      const messages = page.channel!.messages;
      seqs.push(messages.edges.map((e) => e.node.seq));
      hasPrevious = messages.pageInfo.hasPreviousPage;
      before = messages.pageInfo.startCursor;
    }
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(seqs).toEqual([range(71, 120), range(21, 70), range(1, 20)]);
    const newest = await bob!.run(ChannelMessagesDocument, { channelId: world.generalId });
    expect(newest.channel!.messages.edges.at(-1)?.node.text).toBe('message 120');
    expect(newest.channel!.messages.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const forwards = await bob!.run(ChannelMessagesAfterDocument, {
      channelId: world.generalId,
      first: 10,
      after: newest.channel!.messages.edges[0]!.cursor,
    });
    expect(forwards.channel!.messages.edges.map((e) => e.node.seq)).toEqual(range(72, 81));
    const lastMessage = await bob!.run(
      `query($id: ID!) { channel(id: $id) { lastMessage { seq text } } }`,
      { id: world.generalId },
    );
    expect(lastMessage).toEqual({ channel: { lastMessage: { seq: 120, text: 'message 120' } } });
  });

  it.each([
    ['a page over 100', { last: 101 }, 'last'],
    ['a negative page', { last: -1 }, 'last'],
    ['a malformed cursor', { before: 'bm90IGEgY3Vyc29y' }, 'before'],
    ['a cursor of another list', { before: 'WyJpIiwiYm9iIl0' }, 'before'],
  ])('refuses %s with BAD_USER_INPUT', async (_what, args, field) => {
    const world = await organizationWith(server.url, ['ann']);
    const result = await world.users.ann!.request(ChannelMessagesDocument, { channelId: world.generalId, ...args });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(result.data?.channel ?? null).toBeNull();
  });

  it('lets organization members see a channel but only its members read it', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const design = await channelOf(world, ann!, 'design', [bob!]);
    await send(bob!, design, 'secret plans');
    const result = await cat!.request(ChannelMessagesDocument, { channelId: design });
    expect(codes(result)).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(result)).not.toContain('secret plans');
    const list = await cat!.run(OrganizationChannelsDocument, { organizationId: world.orgId });
    expect(list.organization?.channels.edges.map((e) => e.node.id)).not.toContain(design);
  });
});
