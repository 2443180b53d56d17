import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { shardKeys } from '../../src/store/mongo/layout.ts';
import { MARKER_COUNTS } from '../../src/store/mongo/marker-counts.ts';
import { openMongoStore } from '../../src/store/mongo/open.ts';
import { USER_CHANNELS } from '../../src/store/mongo/user-channels.ts';
import { USER_NAMES } from '../../src/store/mongo/user-names.ts';
import { USER_ORGANIZATIONS } from '../../src/store/mongo/user-organizations.ts';
import type { Topology } from '../support/mingo-db.ts';
import { storeContract } from './contract.ts';
import { pushStoreContract } from './push-contract.ts';
import { organization, user } from './fixtures.ts';
import { expectExactReceipts, liveChannels } from './receipts.ts';
import { standIn, startOn } from './mongo-stand-in.ts';

// The MongoDB store's own code on mingo, standing in for the driver's collections and holding every
// query to the server's planner and router rules: as a standalone server (no transactions: the
// ordered-writes fallback), as a replica set (units run as transactions) and as a sharded cluster
// (the sharded layout, every collection sharded as the plan says). None of them is a MongoDB
// server; the server run below is.
const TOPOLOGIES: Topology[] = ['standalone', 'replica set', 'sharded cluster'];
console.log(
  `mongodb (mingo, ${TOPOLOGIES.join(' | ')}): the MongoDB store on a query-level stand-in (mingo) playing each deployment, not a MongoDB server`,
);

for (const topology of TOPOLOGIES) {
  const onStandIn = async () => {
    const store = await startOn(standIn(topology));
    return { store, dispose: () => store.close() };
  };
  storeContract(`mongodb (mingo, ${topology})`, onStandIn);
  pushStoreContract(`mongodb (mingo, ${topology})`, onStandIn);
}

const url = process.env.MONGODB_URL;
console.log(url ? 'mongodb (server): the same contract against the MongoDB server at MONGODB_URL' : 'mongodb (server): skipped, because MONGODB_URL is unset');

// A real server: each run in a database of its own, dropped afterwards.
describe.skipIf(!url)('mongodb (server)', () => {
  const onServer = async () => {
    const dbName = `chat_contract_${randomBytes(6).toString('hex')}`;
    const store = await openMongoStore(url!, { dbName });
    return {
      store,
      async dispose() {
        await store.close();
        const client = await MongoClient.connect(url!, { serverSelectionTimeoutMS: 5000 });
        try {
          await client.db(dbName).dropDatabase();
        } finally {
          await client.close();
        }
      },
    };
  };
  storeContract('mongodb (server)', onServer);
  pushStoreContract('mongodb (server)', onServer);
});

describe('mongodb (mingo, replica set): a database from before the marker counts and the users\' lists', () => {
  it('fills the marker counts once at start-up for memberships stored before they existed', async () => {
    const db = standIn('replica set');
    let channelIds: readonly string[] = [];
    await liveChannels(await startOn(db), 200, async (ids) => void (channelIds = ids));
    // The deployment as a store without the counts left it: no counts, markers that store moved.
    const counts = db.collection(MARKER_COUNTS);
    counts.docs = [];
    const members = db.collection('channelMembers');
    members.docs = members.docs.map((doc) => ({ ...doc, lastReadSeq: Math.floor(doc.lastReadSeq / 2) }));

    const store = await startOn(db);
    await expectExactReceipts(store, channelIds);
    const filled = counts.docs.length;
    await startOn(db);
    expect(counts.docs).toHaveLength(filled);
    await expectExactReceipts(store, channelIds);
    // A process that died part-way through the fill left counts but not the mark of a finished fill:
    // the next start-up counts the channels again, replacing what they held rather than adding to it.
    counts.docs = counts.docs.filter((doc) => doc.channelId !== '');
    await startOn(db);
    await expectExactReceipts(store, channelIds);
    // Moves from here on keep them exact, and leave no document at zero behind.
    await liveChannels(store, 150, (ids) => expectExactReceipts(store, ids));
    expect(counts.docs.filter((doc) => doc.read < 0 || doc.delivered < 0 || (doc.channelId !== '' && doc.read === 0 && doc.delivered === 0))).toEqual([]);
  });

  it('lists each member\'s channels and organizations at start-up when the lists did not exist', async () => {
    const db = standIn('replica set');
    const before = await startOn(db);
    const ann = await user(before, 'ann');
    const bob = await user(before, 'bob');
    const { org, general } = await organization(before, ann.id);
    const { org: second } = await organization(before, bob.id, 'Second');
    await before.addOrgMember(org.id, bob.id, new Date());
    const channelsOf = async (store: typeof before, userId: string) => [...(await store.listChannelIdsOfUser(userId))].sort();
    const expected = { ann: await channelsOf(before, ann.id), bob: await channelsOf(before, bob.id) };
    expect(expected.bob).toHaveLength(2);
    // The database as a store without the lists left it.
    db.collection(USER_CHANNELS).docs = [];
    db.collection(USER_ORGANIZATIONS).docs = [];

    const store = await startOn(db);
    expect(await channelsOf(store, ann.id)).toEqual(expected.ann);
    expect(await channelsOf(store, bob.id)).toEqual(expected.bob);
    expect((await store.listChannelsOfMember(org.id, bob.id, null, 10)).map((c) => c.id)).toEqual([general.id]);
    expect((await store.listOrganizationsOfUser(bob.id, null, 10)).map((o) => o.id)).toEqual([org.id, second.id].sort());
  });
});

describe('the sharding plan', () => {
  it('gives the operator one sh.shardCollection command per collection of the sharded layout, with the key the store targets', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const commands = [...readme.matchAll(/^sh\.shardCollection\("chat\.(\w+)", (\{[^}]*\})\)$/gm)].map(([, name, key]) => [
      name,
      JSON.parse(key!.replace(/(\w+):/g, '"$1":')),
    ]);
    expect(Object.fromEntries(commands)).toEqual(shardKeys());
    expect(commands).toHaveLength(Object.keys(shardKeys()).length);
  });
});

describe('mongodb (mingo, replica set): a database from before @name mentions', () => {
  it('lists the users stored before at start-up, so they are found by name', async () => {
    const db = standIn('replica set');
    const store = await startOn(db);
    const bob = await user(store, 'Bob');
    const { general } = await organization(store, bob.id);
    const names = db.collection(USER_NAMES);
    names.docs = [];
    expect(await store.findChannelMembersByNames(general.id, ['bob'])).toEqual([]);

    const restarted = await startOn(db);
    expect(await restarted.findChannelMembersByNames(general.id, ['bob'])).toEqual([bob]);
  });
});
