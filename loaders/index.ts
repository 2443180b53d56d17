// DataLoaders built per request (per event, for subscriptions) from the store: each kind of read
// a request makes becomes one store call per tick (per 1,000 keys), whatever the number of
// channels or messages. Each loader is made on first use, so an idle subscription holds none.
import DataLoader from 'dataloader';
import type { Channel, ChannelMember, Invitation, Message, OrgMember, Organization, User } from '../src/domain/types.ts';
import type { Reach, ReachKey, Store } from '../src/store/store.ts';
import { type ReadState, type ReadStateKey, STORE_BATCH_MAX, readStatesOf } from './read-state.ts';

export interface Loaders {
  users: DataLoader<string, User | null>;
  organizations: DataLoader<string, Organization | null>;
  channels: DataLoader<string, Channel | null>;
  messages: DataLoader<string, Message | null>;
  invitations: DataLoader<string, Invitation | null>;
  /** A channel's message at a seq (lastMessage, status events). */
  messageBySeq: DataLoader<{ channelId: string; seq: number }, Message | null, string>;
  orgMember: DataLoader<{ orgId: string; userId: string }, OrgMember | null, string>;
  channelMember: DataLoader<{ channelId: string; userId: string }, ChannelMember | null, string>;
  /** A user's read state of a channel (read marker, unread mentions). */
  readState: DataLoader<ReadStateKey, ReadState, string>;
  reach: DataLoader<ReachKey, Reach, string>;
  /** The ids of a user's organizations (the people a viewer may see are the members of these). */
  orgIdsOfUser: DataLoader<string, string[]>;
}

/** A request's loaders, and a way to forget what they loaded (a subscription's next event). */
export interface RequestLoaders extends Loaders {
  /** Forgets what was loaded; inside sharingLoaders, joins the loaders of the message being delivered. */
  renew(): void;
}

/**
 * Keys per store call: a channel of 50,000 members resolving one message together makes a few
 * dozen calls, each small enough for either store.
 */
const MAX_BATCH = STORE_BATCH_MAX;

/** More organizations than one user plausibly belongs to; the list is read whole. */
const ORGANIZATIONS_PER_USER_MAX = 1000;

/** Places found records in the order of the keys asked for, null where none was found. */
function inKeyOrder<K, V>(keys: readonly K[], found: V[], keyOf: (key: K) => string, keyOfValue: (value: V) => string) {
  const byKey = new Map(found.map((value) => [keyOfValue(value), value]));
  return keys.map((key) => byKey.get(keyOf(key)) ?? null);
}

const byId = <V extends { id: string }>(load: (ids: readonly string[]) => Promise<V[]>) =>
  new DataLoader<string, V | null>(async (ids) => inKeyOrder(ids, await load(ids), (id) => id, (v) => v.id), {
    maxBatchSize: MAX_BATCH,
  });

const pair = (a: string, b: string | number) => JSON.stringify([a, b]);

/** How each loader is made from the store. */
const FACTORIES: { [Name in keyof Loaders]: (store: Store) => Loaders[Name] } = {
  users: (store) => byId((ids) => store.findUsersByIds(ids)),
  organizations: (store) => byId((ids) => store.findOrganizationsByIds(ids)),
  channels: (store) => byId((ids) => store.findChannelsByIds(ids)),
  messages: (store) => byId((ids) => store.findMessagesByIds(ids)),
  invitations: (store) => byId((ids) => store.findInvitationsByIds(ids)),
  messageBySeq: (store) =>
    new DataLoader(
      async (keys) =>
        inKeyOrder(keys, await store.findMessagesBySeq(keys), (k) => pair(k.channelId, k.seq), (m) => pair(m.channelId, m.seq)),
      { cacheKeyFn: (k) => pair(k.channelId, k.seq), maxBatchSize: MAX_BATCH },
    ),
  orgMember: (store) =>
    new DataLoader(
      async (keys) =>
        inKeyOrder(keys, await store.findOrgMembers(keys), (k) => pair(k.orgId, k.userId), (m) => pair(m.orgId, m.userId)),
      { cacheKeyFn: (k) => pair(k.orgId, k.userId), maxBatchSize: MAX_BATCH },
    ),
  channelMember: (store) =>
    new DataLoader(
      async (keys) =>
        inKeyOrder(
          keys,
          await store.findChannelMembers(keys),
          (k) => pair(k.channelId, k.userId),
          (m) => pair(m.channelId, m.userId),
        ),
      { cacheKeyFn: (k) => pair(k.channelId, k.userId), maxBatchSize: MAX_BATCH },
    ),
  readState: (store) =>
    new DataLoader((keys) => readStatesOf(store, keys), { cacheKeyFn: (k) => pair(k.channel.id, k.userId), maxBatchSize: MAX_BATCH }),
  reach: (store) =>
    new DataLoader((keys) => store.countReach(keys), {
      cacheKeyFn: (k) => JSON.stringify([k.channelId, k.seq, k.authorId]),
      maxBatchSize: MAX_BATCH,
    }),
  orgIdsOfUser: (store) =>
    new DataLoader((userIds) =>
      Promise.all(
        userIds.map(async (userId) =>
          (await store.listOrganizationsOfUser(userId, null, ORGANIZATIONS_PER_USER_MAX)).map((org) => org.id),
        ),
      ),
    ),
};

interface LoaderState {
  store: Store;
  /** The loaders made since the last renew; null until one is used. */
  made: Partial<Loaders> | null;
}

// One prototype with a lazy getter per loader, shared by every request's loaders object.
const PROTOTYPE = Object.create(null) as RequestLoaders;
for (const name of Object.keys(FACTORIES) as (keyof Loaders)[]) {
  Object.defineProperty(PROTOTYPE, name, {
    get(this: LoaderState) {
      this.made ??= {};
      return (this.made[name] ??= FACTORIES[name](this.store) as never);
    },
  });
}
/** The loaders shared while one message is delivered, per store. */
export type LoaderScope = Map<Store, Partial<Loaders>>;

/**
 * The loaders of the message being delivered right now; null between messages. Loaders hold
 * records as stored, keyed by what was asked and never filtered for a viewer (the resolvers
 * authorize), so viewers sharing them see nothing more than their own would show.
 */
let delivering: LoaderScope | null = null;

/**
 * Runs deliver (one message handed to a feed's local subscribers, or their payloads produced a
 * moment later in the same scope): every subscriber resolving it meanwhile shares one set of
 * loaders, so the badge counts of 50,000 members are a few batched store calls, not a few calls
 * each. A scope serves one message only; the next starts afresh.
 */
export function sharingLoaders(deliver: () => void, scope: LoaderScope = new Map()): void {
  const outer = delivering;
  delivering = scope;
  try {
    deliver();
  } finally {
    delivering = outer;
  }
}

/** The scope of the message being delivered right now, to resume it later; null outside one. */
export function currentLoaderScope(): LoaderScope | null {
  return delivering;
}

function loadersOfThisDelivery(deliveries: LoaderScope, store: Store): Partial<Loaders> {
  let made = deliveries.get(store);
  if (!made) deliveries.set(store, (made = {}));
  return made;
}

// Renewing allocates nothing per subscriber: it runs for every subscriber of every event.
PROTOTYPE.renew = function renew(this: LoaderState) {
  this.made = delivering ? loadersOfThisDelivery(delivering, this.store) : null;
};

/** Fresh loaders for one request or one subscription event. */
export function createLoaders(store: Store): RequestLoaders {
  return Object.assign(Object.create(PROTOTYPE) as RequestLoaders, { store, made: null });
}
