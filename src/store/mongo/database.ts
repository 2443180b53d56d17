// The part of the driver's Db / Collection API the MongoDB store uses, and nothing more, so the same
// store runs on the official driver (its Db satisfies this interface as it is) and on a stand-in.
import type {
  AggregateOptions,
  BulkWriteOptions,
  ClientSession,
  CountDocumentsOptions,
  CreateIndexesOptions,
  DeleteOptions,
  DeleteResult,
  Document,
  Filter,
  FindOneAndUpdateOptions,
  FindOptions,
  IndexSpecification,
  InsertManyResult,
  InsertOneOptions,
  InsertOneResult,
  OptionalUnlessRequiredId,
  UpdateFilter,
  UpdateOptions,
  UpdateResult,
  WithId,
} from 'mongodb';

/** A domain record as a document: its id is the document's _id, every other field as it is. */
export type Stored<T extends { id: string }> = Omit<T, 'id'> & { _id: string };

/** A cursor reduced to what the store reads: all of it at once (every query is bounded by a limit or keys). */
export interface ResultCursor<T> {
  toArray(): Promise<T[]>;
}

/** The collection methods the store calls, with the driver's own signatures. */
export interface StoreCollection<T extends Document> {
  find(filter: Filter<T>, options?: FindOptions): ResultCursor<WithId<T>>;
  findOne(filter: Filter<T>, options?: FindOptions): Promise<WithId<T> | null>;
  insertOne(doc: OptionalUnlessRequiredId<T>, options?: InsertOneOptions): Promise<InsertOneResult<T>>;
  insertMany(docs: ReadonlyArray<OptionalUnlessRequiredId<T>>, options?: BulkWriteOptions): Promise<InsertManyResult<T>>;
  updateOne(filter: Filter<T>, update: UpdateFilter<T>, options?: UpdateOptions): Promise<UpdateResult<T>>;
  findOneAndUpdate(filter: Filter<T>, update: UpdateFilter<T>, options: FindOneAndUpdateOptions): Promise<WithId<T> | null>;
  deleteOne(filter: Filter<T>, options?: DeleteOptions): Promise<DeleteResult>;
  aggregate<R extends Document = Document>(pipeline: Document[], options?: AggregateOptions): ResultCursor<R>;
  countDocuments(filter: Filter<T>, options?: CountDocumentsOptions): Promise<number>;
  createIndex(spec: IndexSpecification, options?: CreateIndexesOptions): Promise<string>;
}

/** A database: its collections, and commands (ping, create). The driver's Db is one. */
export interface StoreDatabase {
  collection<T extends Document = Document>(name: string): StoreCollection<T>;
  command(command: Document): Promise<Document>;
}

/**
 * The session a unit's writes go through: the driver's ClientSession inside a transaction, or
 * undefined where there is none (a standalone server, or a stand-in that needs no session).
 */
export type Session = ClientSession | undefined;

/** Runs fn as one transaction (retrying it on transient errors), or rejects with fn's error after aborting. */
export type TransactionRunner = <R>(fn: (session: Session) => Promise<R>) => Promise<R>;

/** An index declared beside the queries it serves; its name is what a duplicate-key error reports. */
export interface IndexSpec {
  key: Record<string, 1 | -1>;
  name: string;
  unique?: boolean;
  partialFilterExpression?: Document;
}

/** How a collection is sharded in the sharded layout: sh.shardCollection(namespace, key). */
export type ShardKey = Record<string, 1 | 'hashed'>;

/** A collection as the store lays it out: its indexes (created at start-up) and its shard key (null: unsharded). */
export interface CollectionSpec {
  name: string;
  indexes: readonly IndexSpec[];
  shardKey: ShardKey | null;
}

/** The driver's per-operation options carrying the session, when there is one. */
export function within(session: Session): { session?: ClientSession } {
  return session ? { session } : {};
}
