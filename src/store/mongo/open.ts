// Opening the MongoDB store of a server process: connect (connection.ts), choose the layout, lay
// the collections and indexes out (startup.ts). Every failure stops start-up with one line saying
// what failed: the server cannot be reached, the credentials are refused, an index conflicts (which
// one, and what to do), an index is still being built, or the deployment cannot hold the layout.
import { StartupFailure, connectMongo, describeMongoUrl, reasonOf } from './connection.ts';
import { MongoStore } from './mongo-store.ts';

export interface OpenOptions {
  /** The database; by default the URL's path, else 'chat'. */
  dbName?: string;
  /** The bound of every wait (MONGODB_TIMEOUT_MS). */
  timeoutMs?: number;
  /** How long start-up waits for an index build (MONGODB_INDEX_BUILD_WAIT_MS). */
  indexBuildWaitMs?: number;
  /** The sharded layout (MONGODB_SHARDED); undefined: when the server is a mongos. */
  sharded?: boolean;
}

/** Connects to MongoDB at url and starts the store; rejects with a StartupFailure naming the hosts and what failed. */
export async function openMongoStore(url: string, options: OpenOptions = {}): Promise<MongoStore> {
  const connection = await connectMongo(url, { dbName: options.dbName, timeoutMs: options.timeoutMs ?? 5000 });
  try {
    const sharded = options.sharded ?? connection.deployment.mongos;
    const store = new MongoStore(connection.db, { transactions: connection.transactions, sharded, close: connection.close });
    await store.start(options.indexBuildWaitMs);
    return store;
  } catch (error) {
    await connection.close().catch(() => undefined);
    const reason = error instanceof StartupFailure ? error.message : reasonOf(error, url);
    throw new StartupFailure(`MongoDB at ${describeMongoUrl(url)}: ${reason}`);
  }
}
