import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { MARKER_COUNTS } from '../../src/store/mongo/marker-counts.ts';
import { MongoStore, openMongoStore } from '../../src/store/mongo/mongo-store.ts';
import { MingoDb } from '../support/mingo-db.ts';
import { storeContract } from './contract.ts';
import { pushStoreContract } from './push-contract.ts';
import { expectExactReceipts, liveChannels } from './receipts.ts';

// The MongoDB store's own code on mingo, standing in for the driver's collections: once as a
// standalone server (no transactions: the ordered-writes fallback), once with units run as
// transactions. Neither is a MongoDB server; the server run below is.
console.log('mongodb (mingo): the MongoDB store on a query-level stand-in (mingo), not a MongoDB server');

async function onMingo(transactions: boolean) {
  const db = new MingoDb();
  const store = new MongoStore(db, { transactions: transactions ? db.transactions : null });
  await store.ensureIndexes();
  return { store, dispose: () => store.close() };
}

storeContract('mongodb (mingo)', () => onMingo(false));
storeContract('mongodb (mingo, transactions)', () => onMingo(true));
pushStoreContract('mongodb (mingo)', () => onMingo(false));
pushStoreContract('mongodb (mingo, transactions)', () => onMingo(true));

const url = process.env.MONGODB_URL;
if (!url) console.log('mongodb (server): skipped, because MONGODB_URL is unset');

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

describe('mongodb (mingo, transactions): read receipts', () => {
  /** A store starting up on db as a server process does. */
  async function startOn(db: MingoDb) {
    const store = new MongoStore(db, { transactions: db.transactions });
    await store.ensureIndexes();
    return store;
  }

  it('fills the marker counts once at start-up for memberships stored before they existed', async () => {
    const db = new MingoDb();
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
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('openMongoStore', () => {
  it('fails start-up within seconds, naming the host but not the credentials, when MongoDB cannot be reached', async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = await openMongoStore(`mongodb://ann:s3cret@127.0.0.1:${port}/chat`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(new RegExp(`^cannot reach MongoDB at 127\\.0\\.0\\.1:${port}: .+`));
    expect((error as Error).message).not.toMatch(/s3cret|ann:/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
