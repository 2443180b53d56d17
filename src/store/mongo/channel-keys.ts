// channelKeys (the sharded layout): the reservations of unique channel names. A sharded collection
// enforces a unique index only when it starts with the shard key
// (https://www.mongodb.com/docs/v7.0/core/sharding-shard-key-indexes/#unique-indexes), and channels
// are sharded by their own id, so {orgId, name} and {orgId, directKey} cannot be unique indexes
// there. Each GROUP channel's name and each DIRECT channel's directKey is instead the _id of a
// document here ({orgId, name} or {orgId, directKey}), inserted in the unit that creates the
// channel: _id is this collection's (hashed) shard key, so the _id index is unique across the
// cluster, and the insert of a taken name fails and aborts the unit. Channels are never renamed or
// deleted, so a reservation never has to be given back.
import type { Channel } from '../../domain/types.ts';
import { StoreError } from '../store.ts';
import { type ChannelDoc, type Channels, findByIds } from './channels.ts';
import { type CollectionSpec, type Session, type StoreCollection, within } from './database.ts';
import { isDuplicateKey } from './errors.ts';

export const CHANNEL_KEYS = 'channelKeys';

type ChannelKey = { orgId: string; name: string } | { orgId: string; directKey: string };

export interface ChannelKeyDoc {
  _id: ChannelKey;
  channelId: string;
}

export type ChannelKeys = StoreCollection<ChannelKeyDoc>;

/** Only the _id index. */
export const channelKeysCollection: CollectionSpec = { name: CHANNEL_KEYS, indexes: [], shardKey: { _id: 'hashed' } };

/** The reservation a channel needs (always built with its fields in this order: _id equality compares them in order). */
function keyOf(channel: Channel): ChannelKey {
  return channel.kind === 'DIRECT' ? { orgId: channel.orgId, directKey: channel.directKey ?? '' } : { orgId: channel.orgId, name: channel.name };
}

/** Reserves the channel's name or directKey; StoreError 'duplicate' when it is taken. */
export async function reserve(keys: ChannelKeys, channel: Channel, session: Session): Promise<void> {
  try {
    await keys.insertOne({ _id: keyOf(channel), channelId: channel.id }, within(session));
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const key = channel.kind === 'DIRECT' ? 'directKey' : 'channelName';
    throw new StoreError('duplicate', `${key} of ${channel.orgId} taken: ${error.message}`, key);
  }
}

/** The organization's DIRECT channel with this key: its reservation (_id), then the channel (_id). */
export async function findDirect(keys: ChannelKeys, channels: Channels, orgId: string, directKey: string): Promise<ChannelDoc | null> {
  const reservation = await keys.findOne({ _id: { orgId, directKey } });
  if (!reservation) return null;
  const [doc] = await findByIds(channels, [reservation.channelId]);
  return doc ?? null;
}
