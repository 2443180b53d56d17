// Read receipts as an author sees them on a page of messages: how many other members each message
// has reached (delivered, read) and its status, as members ack, read, join and leave.
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  AcknowledgeDeliveryDocument,
  AddChannelMemberDocument,
  MarkChannelReadDocument,
  RemoveChannelMemberDocument,
} from '../../operations/generated/graphql.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { type Member, channelOf, organizationWith, send } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

type Receipt = { seq: number; status: string; deliveredCount: number; readCount: number };
const PAGE_WITH_RECEIPTS = `query($channelId: ID!) {
  channel(id: $channelId) { messages(last: 50) { edges { node { seq status deliveredCount readCount } } } }
}`;

/** The newest page with receipts as `user` sees it: [seq, status, deliveredCount, readCount] per message. */
async function receipts(user: Member, channelId: string) {
  const page = (await user.run(PAGE_WITH_RECEIPTS, { channelId })) as { channel: { messages: { edges: { node: Receipt }[] } } };
  return page.channel.messages.edges.map(({ node }) => [node.seq, node.status, node.deliveredCount, node.readCount]);
}

it('counts the other members each message has reached as they ack, read, join and leave', async () => {
  const world = await organizationWith(server.url, ['ann', 'bob', 'cat', 'dan']);
  const { ann, bob, cat, dan } = world.users as Record<string, Member>;
  const design = await channelOf(world, ann!, 'design', [ann!, bob!, cat!]);
  for (const text of ['one', 'two', 'three']) await send(ann!, design, text);
  expect(await receipts(ann!, design)).toEqual([[1, 'SENT', 0, 0], [2, 'SENT', 0, 0], [3, 'SENT', 0, 0]]);

  await bob!.run(AcknowledgeDeliveryDocument, { input: { channelId: design, throughSeq: 3 } });
  await cat!.run(MarkChannelReadDocument, { input: { channelId: design, throughSeq: 2 } });
  expect(await receipts(ann!, design)).toEqual([[1, 'DELIVERED', 2, 1], [2, 'DELIVERED', 2, 1], [3, 'SENT', 1, 0]]);

  await bob!.run(MarkChannelReadDocument, { input: { channelId: design } });
  // A read marker never moves back: cat's earlier read stays.
  await cat!.run(MarkChannelReadDocument, { input: { channelId: design, throughSeq: 1 } });
  expect(await receipts(ann!, design)).toEqual([[1, 'SEEN', 2, 2], [2, 'SEEN', 2, 2], [3, 'SENT', 1, 1]]);

  // A member who joins late has seen what was there before joining; one who left is no longer waited for.
  await ann!.run(AddChannelMemberDocument, { input: { channelId: design, userId: dan!.id } });
  expect(await receipts(ann!, design)).toEqual([[1, 'SEEN', 3, 3], [2, 'SEEN', 3, 3], [3, 'SENT', 2, 2]]);
  await ann!.run(RemoveChannelMemberDocument, { input: { channelId: design, userId: cat!.id } });
  expect(await receipts(ann!, design)).toEqual([[1, 'SEEN', 2, 2], [2, 'SEEN', 2, 2], [3, 'SEEN', 2, 2]]);

  // The author is never counted: bob's message has reached nobody else yet, though bob has read it.
  await send(bob!, design, 'four');
  const seen = await receipts(dan!, design);
  expect(seen.at(-1)).toEqual([4, 'SENT', 0, 0]);
  expect(seen).toEqual(await receipts(bob!, design));
});
