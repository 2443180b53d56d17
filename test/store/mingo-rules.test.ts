// The mingo stand-in holds the MongoDB store to the server's planner and router rules; these are
// the rules themselves, each shown refusing what a server would not do well (and accepting what it
// would), so that a store query the contract runs through the stand-in is known to be checked.
import type { Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { MingoDb } from '../support/mingo-db.ts';
import { implies, parse } from '../support/mingo-planner.ts';

describe('mingo stand-in: a partial index is used only for a filter that implies its partial filter', () => {
  it.each<[Document, Document, boolean]>([
    [{ k: 'a' }, { k: { $type: 'string' } }, false],
    [{ k: { $eq: 'a', $type: 'string' } }, { k: { $type: 'string' } }, true],
    [{ k: 'a' }, { k: { $exists: true } }, true],
    [{ k: null }, { k: { $exists: true } }, false],
    [{ k: { $in: ['a', 'b'] } }, { k: { $exists: true } }, true],
    [{ k: { $in: ['a', null] } }, { k: { $exists: true } }, false],
    [{ rating: { $gte: 8 } }, { rating: { $gt: 5 } }, true],
    [{ rating: { $lt: 8 } }, { rating: { $gt: 5 } }, false],
    [{ rating: 5 }, { rating: { $gt: 5 } }, false],
    [{ rating: 5 }, { rating: { $gte: 5 } }, true],
    [{ rating: '9' }, { rating: { $gt: 5 } }, false],
    [{ rating: { $in: [6, 7] } }, { rating: { $gt: 5 } }, true],
    [{ kind: 'DIRECT', orgId: 'o' }, { kind: 'DIRECT' }, true],
    [{ kind: 'GROUP' }, { kind: 'DIRECT' }, false],
    [{ kind: 'GROUP' }, { kind: { $in: ['GROUP', 'DIRECT'] } }, true],
    [{ a: 1, b: 2 }, { a: 1, b: { $gt: 1 } }, true],
    [{ a: 1 }, { a: 1, b: { $gt: 1 } }, false],
    [{ $or: [{ a: 1 }, { a: 2 }] }, { a: { $exists: true } }, true],
  ])('%j implies %j: %s', (query, partial, expected) => {
    expect(implies(parse(query), parse(partial))).toBe(expected);
  });

  it('refuses the idempotency look-up of a send that states no $type, which would scan the channel', async () => {
    const messages = new MingoDb().collection('messages');
    await messages.createIndex({ channelId: 1, seq: 1 }, { name: 'channelId_1_seq_1', unique: true });
    await messages.createIndex(
      { channelId: 1, authorId: 1, clientMessageId: 1 },
      { name: 'clientMessageId', unique: true, partialFilterExpression: { clientMessageId: { $type: 'string' } } },
    );
    await expect(messages.findOne({ channelId: 'c', authorId: 'a', clientMessageId: 'k' })).rejects.toThrow(/no eligible index of messages serves/);
    await expect(messages.findOne({ channelId: 'c', authorId: 'a', clientMessageId: { $eq: 'k', $type: 'string' } })).resolves.toBeNull();
  });
});

describe('mingo stand-in: scans and sorts', () => {
  async function members() {
    const collection = new MingoDb().collection('channelMembers');
    await collection.createIndex({ channelId: 1, userId: 1 }, { name: 'channelId_1_userId_1', unique: true });
    return collection;
  }

  it('refuses a filter whose first index field is unbounded, or that leaves a condition to documents', async () => {
    const collection = await members();
    await expect(collection.find({ userId: 'u' }).toArray()).rejects.toThrow(/no eligible index/);
    await expect(collection.find({ channelId: 'c', lastReadSeq: { $gte: 5 } }).toArray()).rejects.toThrow(/no eligible index/);
    await expect(collection.find({ channelId: 'c', userId: { $in: ['u', 'v'] }, lastReadSeq: { $gte: 5 } }).toArray()).resolves.toEqual([]);
  });

  it('refuses a sort no index provides unless the filter bounds it to a page of point look-ups', async () => {
    const collection = await members();
    await expect(collection.find({ channelId: 'c' }, { sort: { userId: -1 }, limit: 500 }).toArray()).resolves.toEqual([]);
    await expect(collection.find({ channelId: 'c' }, { sort: { joinedAt: 1 }, limit: 5 }).toArray()).rejects.toThrow(/provides the sort/);
    const many = Array.from({ length: 300 }, (_, i) => `u${i}`);
    await expect(collection.find({ channelId: 'c', userId: { $in: many } }, { sort: { joinedAt: 1 }, limit: 300 }).toArray()).resolves.toEqual([]);
    await expect(collection.find({ channelId: 'c', userId: { $in: many } }, { sort: { joinedAt: 1 }, limit: 50 }).toArray()).rejects.toThrow(
      /provides the sort/,
    );
  });

  it('refuses a second index on a key pattern, and a name taken by another definition', async () => {
    const collection = await members();
    await expect(collection.createIndex({ channelId: 1, userId: 1 }, { name: 'other' })).rejects.toMatchObject({ code: 85 });
    await expect(collection.createIndex({ userId: 1 }, { name: 'channelId_1_userId_1' })).rejects.toMatchObject({ code: 86 });
  });
});

describe('mingo stand-in (sharded cluster): every operation targets its shard key', () => {
  type MessageDoc = { _id: string; channelId: string; seq?: number; text?: string; authorId?: string };
  const db = () => new MingoDb({ topology: 'sharded cluster', shardKeys: { messages: { channelId: 'hashed', seq: 1 } } });

  it('refuses a read that does not name the key\'s first field by equality or $in', async () => {
    const messages = db().collection<MessageDoc>('messages');
    await expect(messages.find({ channelId: 'c' }).toArray()).resolves.toEqual([]);
    await expect(messages.find({ $or: [{ channelId: 'c', seq: 1 }, { channelId: 'd', seq: 2 }] }).toArray()).resolves.toEqual([]);
    await expect(messages.find({ channelId: { $gt: 'c' } }).toArray()).rejects.toThrow(/would go to every shard|no eligible index/);
    await messages.createIndex({ _id: 1, seq: 1 }, { name: 'byId' });
    await expect(messages.find({ _id: 'm1' }).toArray()).rejects.toThrow(/does not target it and would go to every shard/);
  });

  it('lets a read go to every shard only when its comment says it is a deliberate broadcast', async () => {
    const messages = db().collection<MessageDoc>('messages');
    await messages.createIndex({ authorId: 1 }, { name: 'authorId_1' });
    await expect(messages.find({ authorId: 'a' }).toArray()).rejects.toThrow(/would go to every shard/);
    await expect(messages.find({ authorId: 'a' }, { comment: 'broadcast: a background scan' }).toArray()).resolves.toEqual([]);
  });

  it('refuses single-document writes and upserts without the whole key, and documents without it', async () => {
    const messages = db().collection<MessageDoc>('messages');
    await messages.insertOne({ _id: 'm1', channelId: 'c', seq: 1 });
    await expect(messages.insertOne({ _id: 'm2', channelId: 'c' })).rejects.toThrow(/lacks shard key field seq/);
    await expect(messages.updateOne({ channelId: 'c', seq: 1 }, { $set: { text: 'x' } })).resolves.toMatchObject({ modifiedCount: 1 });
    await expect(messages.deleteOne({ channelId: 'c' })).rejects.toThrow(/must name the whole shard key/);
  });

  it('refuses a unique index that does not start with the shard key', async () => {
    const messages = db().collection<MessageDoc>('messages');
    await expect(messages.createIndex({ channelId: 1, seq: 1 }, { name: 'seq', unique: true })).resolves.toBe('seq');
    await expect(
      messages.createIndex({ channelId: 1, authorId: 1, clientMessageId: 1 }, { name: 'clientMessageId', unique: true }),
    ).rejects.toMatchObject({ code: 67 });
  });
});
