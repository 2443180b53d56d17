// The store's collections in its two layouts. The unsharded layout (a standalone server or a
// replica set) keeps unique names and idempotency keys in partial unique indexes. The sharded
// layout (MONGODB_SHARDED=true, or a mongos) shards every collection that grows with users,
// channels or messages on the key given here, and moves what a sharded collection cannot hold (a
// unique index that does not start with its shard key; a look-up that names no shard key) into
// collections of their own: channelKeys, clientMessageIds, messageIds. The users' own lists
// (userChannels, userOrganizations) serve the by-user paths in both, and userNames the look-up of
// users by name. A collection without a shard
// key stays unsharded on the database's primary shard (its file says why). The README's sharding
// plan gives the sh.shardCollection commands.
import type { AppendCollections } from './append-message.ts';
import * as channelKeys from './channel-keys.ts';
import * as channelMembers from './channel-members.ts';
import * as channels from './channels.ts';
import * as clientMessageIds from './client-message-ids.ts';
import type { CollectionSpec, ShardKey, StoreDatabase } from './database.ts';
import * as devices from './devices.ts';
import * as invitations from './invitations.ts';
import * as markerCounts from './marker-counts.ts';
import * as memberCounts from './member-counts.ts';
import type { MembershipCollections } from './memberships.ts';
import * as messageIds from './message-ids.ts';
import * as messages from './messages.ts';
import * as orgMembers from './org-members.ts';
import * as organizations from './organizations.ts';
import { PUSH_COLLECTIONS, channelActivityIndexes } from './push-store.ts';
import * as userChannels from './user-channels.ts';
import * as userNames from './user-names.ts';
import * as userOrganizations from './user-organizations.ts';
import * as users from './users.ts';

/** Every collection of a layout, with its indexes and shard key. */
export function layoutOf(sharded: boolean): readonly CollectionSpec[] {
  const channelsSpec = channels.channelsCollection(sharded);
  return [
    users.usersCollection,
    userNames.userNamesCollection,
    organizations.organizationsCollection,
    orgMembers.orgMembersCollection,
    userOrganizations.userOrganizationsCollection,
    invitations.invitationsCollection,
    // The push log scan's order is declared beside its query (push-progress.ts).
    { ...channelsSpec, indexes: [...channelsSpec.indexes, ...channelActivityIndexes] },
    ...(sharded ? [channelKeys.channelKeysCollection] : []),
    channelMembers.channelMembersCollection,
    userChannels.userChannelsCollection,
    memberCounts.memberCountsCollection,
    messages.messagesCollection(sharded),
    ...(sharded ? [messageIds.messageIdsCollection, clientMessageIds.clientMessageIdsCollection] : []),
    markerCounts.markerCountsCollection,
    devices.devicesCollection,
    ...PUSH_COLLECTIONS,
  ];
}

/** The sharded layout's shard keys, by collection: what the operator passes to sh.shardCollection. */
export function shardKeys(): Record<string, ShardKey> {
  return Object.fromEntries(layoutOf(true).flatMap(({ name, shardKey }) => (shardKey ? [[name, shardKey]] : [])));
}

/** Every collection the store reads or writes, and which layout they are in. */
export type StoreCollections = AppendCollections &
  MembershipCollections & { users: users.Users; userNames: userNames.UserNames; devices: devices.Devices; channelKeys: channelKeys.ChannelKeys };

/** The collections of db. */
export function collectionsOf(db: StoreDatabase, sharded: boolean): StoreCollections {
  return {
    sharded,
    users: db.collection(users.USERS),
    userNames: db.collection(userNames.USER_NAMES),
    organizations: db.collection(organizations.ORGANIZATIONS),
    orgMembers: db.collection(orgMembers.ORG_MEMBERS),
    userOrganizations: db.collection(userOrganizations.USER_ORGANIZATIONS),
    invitations: db.collection(invitations.INVITATIONS),
    channels: db.collection(channels.CHANNELS),
    channelKeys: db.collection(channelKeys.CHANNEL_KEYS),
    channelMembers: db.collection(channelMembers.CHANNEL_MEMBERS),
    userChannels: db.collection(userChannels.USER_CHANNELS),
    memberCounts: db.collection(memberCounts.MEMBER_COUNTS),
    messages: db.collection(messages.MESSAGES),
    messageIds: db.collection(messageIds.MESSAGE_IDS),
    clientMessageIds: db.collection(clientMessageIds.CLIENT_MESSAGE_IDS),
    markerCounts: db.collection(markerCounts.MARKER_COUNTS),
    devices: db.collection(devices.DEVICES),
  };
}
