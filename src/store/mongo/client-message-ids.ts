// clientMessageIds (the sharded layout): the idempotency keys of sends. A unique index on messages
// must start with its shard key {channelId, seq}, so {channelId, authorId, clientMessageId} cannot
// be one there (https://www.mongodb.com/docs/v7.0/core/sharding-shard-key-indexes/#unique-indexes).
// Each send with a clientMessageId reserves the key as the _id of a document here, holding the
// message's seq, in the unit that appends the message: _id is this collection's (hashed) shard key,
// so the key is unique across the cluster, and a concurrent send with the same key fails its insert
// (or write-conflicts) and its whole unit rolls back. Look-ups by the key are targeted.
import { StoreError } from '../store.ts';
import { type CollectionSpec, type Session, type StoreCollection, within } from './database.ts';
import { isDuplicateKey } from './errors.ts';

export const CLIENT_MESSAGE_IDS = 'clientMessageIds';

export interface ClientMessageKey {
  channelId: string;
  authorId: string;
  clientMessageId: string;
}

export interface ClientMessageIdDoc {
  _id: ClientMessageKey;
  seq: number;
}

export type ClientMessageIds = StoreCollection<ClientMessageIdDoc>;

/** Only the _id index. */
export const clientMessageIdsCollection: CollectionSpec = { name: CLIENT_MESSAGE_IDS, indexes: [], shardKey: { _id: 'hashed' } };

/** The key as an _id, its fields always in this order (_id equality compares them in order). */
const idOf = ({ channelId, authorId, clientMessageId }: ClientMessageKey): ClientMessageKey => ({ channelId, authorId, clientMessageId });

/** Reserves the key for the message at seq; StoreError 'duplicate' (key 'clientMessageId') when another send holds it. */
export async function reserve(keys: ClientMessageIds, key: ClientMessageKey, seq: number, session: Session): Promise<void> {
  try {
    await keys.insertOne({ _id: idOf(key), seq }, within(session));
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    throw new StoreError('duplicate', `clientMessageId ${key.clientMessageId} of ${key.authorId} taken: ${error.message}`, 'clientMessageId');
  }
}

/** The seq of the message stored with this key (_id), if any. */
export async function findSeq(keys: ClientMessageIds, key: ClientMessageKey, session: Session): Promise<number | null> {
  const doc = await keys.findOne({ _id: idOf(key) }, within(session));
  return doc ? doc.seq : null;
}
