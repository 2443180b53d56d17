// A query-level stand-in for the MongoDB driver's Db, backed by the mingo query engine. It is NOT
// a MongoDB server: no wire protocol, no storage engine, no query planner, no real sessions. It
// exists so the MongoDB store's own code (its filters, updates, pipelines, index declarations and
// unique-key handling) runs in CI where no server can be installed; the same store also runs the
// contract suite against a real server whenever MONGODB_URL is set.
//
// What it models: the collection methods the store calls (find with sort/limit/projection/hint,
// findOne, insertOne/insertMany, updateOne/findOneAndUpdate with sort, $set/$inc/$max/$setOnInsert
// and upsert, deleteOne, aggregate, countDocuments, createIndex), unique indexes incl. partial ones
// (duplicate-key errors shaped like the driver's), index creation conflicts, and the planner's and
// router's rules (mingo-planner.ts, mingo-shards.ts): it refuses a query no eligible index serves, a
// sort no index provides past a small bound, and in a sharded cluster an operation that does not
// target its shard key (unless a read's comment says it is a deliberate 'broadcast: ...'). It plays
// one of three deployments, answering `hello` as that one would:
// - 'standalone': no transactions;
// - 'replica set': units run as transactions, one at a time, and a unit that throws leaves every
//   collection as it found it: the outcome of a serializable transaction, not MongoDB's snapshot
//   isolation with write conflicts and retries;
// - 'sharded cluster': a mongos (`msg: 'isdbgrid'`) over collections sharded on the given keys,
//   with transactions as above.
// Writes made outside a unit while one runs are not isolated from it.
import { type Document, MongoServerError, MongoWriteConcernError } from 'mongodb';
import type { Session, StoreDatabase, TransactionRunner } from '../../src/store/mongo/database.ts';
import { type CollectionHooks, MingoCollection } from './mingo-collection.ts';
import type { IndexDef } from './mingo-indexes.ts';
import type { ShardKey } from './mingo-shards.ts';

export type Topology = 'standalone' | 'replica set' | 'sharded cluster';

export interface MingoDbOptions {
  topology?: Topology;
  /** In a sharded cluster: the collections sharded (sh.shardCollection) before the store starts, by name. */
  shardKeys?: Readonly<Record<string, ShardKey>>;
}

export class MingoDb implements StoreDatabase {
  readonly topology: Topology;
  private readonly collections = new Map<string, MingoCollection<Document>>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Index builds (by collection and index name) that never finish, as a build over a huge collection. */
  readonly endlessBuilds = new Set<string>();
  /** While set, every write fails with this error and changes nothing (a lost majority, say). */
  writeFailure: Error | null = null;

  constructor(private readonly options: MingoDbOptions = {}) {
    this.topology = options.topology ?? 'standalone';
  }

  private readonly hooks: CollectionHooks = {
    beforeWrite: () => {
      if (this.writeFailure) throw this.writeFailure;
    },
    build: (collection: string, index: IndexDef) =>
      this.endlessBuilds.has(`${collection}.${index.name}`) ? new Promise<void>(() => undefined) : Promise.resolve(),
  };

  collection<T extends Document = Document>(name: string): MingoCollection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      const shardKey = this.topology === 'sharded cluster' ? (this.options.shardKeys?.[name] ?? null) : null;
      collection = new MingoCollection<Document>(name, shardKey, this.hooks);
      this.collections.set(name, collection);
    }
    return collection as unknown as MingoCollection<T>;
  }

  /** ping, hello and create, answered as the deployment played would. */
  async command(command: Document): Promise<Document> {
    if ('ping' in command) return { ok: 1 };
    if ('create' in command) {
      if (this.collections.has(command.create)) {
        throw new MongoServerError({ message: `Collection ${command.create} already exists.`, code: 48, codeName: 'NamespaceExists' });
      }
      this.collection(command.create);
      return { ok: 1 };
    }
    if ('hello' in command) {
      if (this.topology === 'replica set') return { isWritablePrimary: true, setName: 'rs0', ok: 1 };
      if (this.topology === 'sharded cluster') return { isWritablePrimary: true, msg: 'isdbgrid', ok: 1 };
      return { isWritablePrimary: true, ok: 1 };
    }
    throw new Error(`mingo stand-in: command ${Object.keys(command)[0]} is not modelled`);
  }

  /** Units run one at a time; a unit that throws leaves every collection as it found it. Null on a standalone server. */
  get transactions(): TransactionRunner | null {
    return this.topology === 'standalone' ? null : this.runUnit;
  }

  private readonly runUnit: TransactionRunner = <R>(fn: (session: Session) => Promise<R>): Promise<R> => {
    const unit = this.queue.then(async () => {
      const snapshot = new Map([...this.collections].map(([name, c]) => [name, [...c.docs]]));
      try {
        return await fn(undefined);
      } catch (error) {
        for (const [name, c] of this.collections) c.docs = snapshot.get(name) ?? [];
        throw error;
      }
    });
    this.queue = unit.catch(() => undefined);
    return unit;
  };
}

/** The error a write gets when the majority cannot confirm it in time (wtimeout). */
export function majorityTimeout(): MongoWriteConcernError {
  return new MongoWriteConcernError({
    ok: 1,
    writeConcernError: { code: 64, codeName: 'WriteConcernFailed', errmsg: 'waiting for replication timed out', errInfo: { wtimeout: true } },
  });
}
