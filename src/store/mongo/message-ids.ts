// messageIds (the sharded layout): where each message is, by its id. messages is sharded by
// {channelId, seq}, and a look-up by _id alone names no channel: it would go to every shard. So
// each message's id is also the _id of a small document here, {channelId, seq}, inserted in the
// unit that appends the message; sharded on the hashed _id, a look-up by ids goes to the shards of
// those ids, then to the messages' own shards.
import { type CollectionSpec, type Session, type StoreCollection, within } from './database.ts';

export const MESSAGE_IDS = 'messageIds';

export interface MessageIdDoc {
  _id: string;
  channelId: string;
  seq: number;
}

export type MessageIds = StoreCollection<MessageIdDoc>;

/** Only the _id index. */
export const messageIdsCollection: CollectionSpec = { name: MESSAGE_IDS, indexes: [], shardKey: { _id: 'hashed' } };

/** Records where a new message is. */
export async function add(ids: MessageIds, id: string, channelId: string, seq: number, session: Session): Promise<void> {
  await ids.insertOne({ _id: id, channelId, seq }, within(session));
}

/** Where the messages with these ids are (_id; unknown ids left out). */
export async function findPositions(ids: MessageIds, messageIds: readonly string[]): Promise<{ channelId: string; seq: number }[]> {
  if (messageIds.length === 0) return [];
  const docs = await ids.find({ _id: { $in: [...messageIds] } }, { projection: { _id: 0, channelId: 1, seq: 1 } }).toArray();
  return docs.map(({ channelId, seq }) => ({ channelId, seq }));
}
