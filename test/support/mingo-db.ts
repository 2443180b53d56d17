// A query-level stand-in for the MongoDB driver's Db, backed by the mingo query engine. It is NOT
// a MongoDB server: no wire protocol, no storage engine, no query planner, no real sessions. It
// exists so the MongoDB store's own code (its filters, updates, pipelines, index declarations and
// unique-key handling) runs in CI where no server can be installed; the same store also runs the
// contract suite against a real server whenever MONGODB_URL is set.
//
// What it models: the collection methods the store calls (find with sort/limit/projection,
// findOne, insertOne/insertMany, updateOne/findOneAndUpdate with $set/$inc/$max/$setOnInsert and
// upsert, deleteOne, aggregate, countDocuments, createIndex), unique indexes incl. partial ones
// (duplicate-key errors shaped like the driver's), and refuses filters that no declared index could
// serve. Without transactions it behaves like a standalone server. With `transactions` it runs each
// unit alone (one at a time) and restores a snapshot when the unit throws: the outcome of a
// serializable transaction, not MongoDB's snapshot isolation with write conflicts and retries.
// Writes made outside a unit while one runs are not isolated from it.
import { type Document, MongoServerError } from 'mongodb';
import type { Session, StoreDatabase, TransactionRunner } from '../../src/store/mongo/database.ts';
import { MingoCollection } from './mingo-collection.ts';

export class MingoDb implements StoreDatabase {
  private readonly collections = new Map<string, MingoCollection<Document>>();
  private queue: Promise<unknown> = Promise.resolve();

  collection<T extends Document = Document>(name: string): MingoCollection<T> {
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new MingoCollection<Document>(name);
      this.collections.set(name, collection);
    }
    return collection as unknown as MingoCollection<T>;
  }

  /** ping, hello and create, answered as a standalone server would. */
  async command(command: Document): Promise<Document> {
    if ('ping' in command) return { ok: 1 };
    if ('create' in command) {
      if (this.collections.has(command.create)) {
        throw new MongoServerError({ message: `Collection ${command.create} already exists.`, code: 48, codeName: 'NamespaceExists' });
      }
      this.collection(command.create);
      return { ok: 1 };
    }
    if ('hello' in command) return { isWritablePrimary: true, ok: 1 };
    throw new Error(`mingo stand-in: command ${Object.keys(command)[0]} is not modelled`);
  }

  /** Runs units one at a time; a unit that throws leaves every collection as it found it. */
  readonly transactions: TransactionRunner = <R>(fn: (session: Session) => Promise<R>): Promise<R> => {
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
