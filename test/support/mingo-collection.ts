// One collection of the mingo stand-in (a query-level stand-in for the driver, not a MongoDB server;
// see mingo-db.ts): documents in an array; filters, updates and pipelines evaluated by mingo;
// unique indexes enforced; every query held to the planner's rules (mingo-planner.ts) and, on a
// sharded collection, to the router's (mingo-shards.ts). Documents are never changed in place (an
// update stores a new object), so a snapshot of a collection is a copy of its array.
import { Aggregator, Query, find, update } from 'mingo';
import type { Modifier } from 'mingo/updater';
import {
  type CreateIndexesOptions,
  type DeleteResult,
  type Document,
  type Filter,
  type FindOneAndUpdateOptions,
  type FindOptions,
  type IndexSpecification,
  type InsertManyResult,
  type InsertOneResult,
  ObjectId,
  type OptionalUnlessRequiredId,
  type UpdateFilter,
  type UpdateOptions,
  type UpdateResult,
  type WithId,
} from 'mongodb';
import type { ResultCursor, StoreCollection } from '../../src/store/mongo/database.ts';
import { ID_INDEX, type IndexDef, type IndexKey, type QueryShape, assertNoConflict, assertPlanned, assertUnique, defaultIndexName } from './mingo-indexes.ts';
import { type ShardKey, assertHasKey, assertTargeted, assertUniqueCompatible, assertWholeKey, shardKeyIndex } from './mingo-shards.ts';

/** A deep copy that keeps Dates and ObjectIds what they are (structuredClone would not keep ObjectIds). */
export function copy<V>(value: V): V {
  if (value instanceof Date) return new Date(value.getTime()) as V;
  if (Array.isArray(value)) return value.map(copy) as V;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)])) as V;
  }
  return value;
}

/** Lets concurrent callers interleave between operations, as they do against a server. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What the database tells a collection about the deployment around it. */
export interface CollectionHooks {
  /** Throws instead of writing while the stand-in plays a server that cannot confirm writes. */
  beforeWrite(): void;
  /** Resolves when an index build finishes; the stand-in may keep some builds running forever. */
  build(collection: string, index: IndexDef): Promise<void>;
}

export class MingoCollection<T extends Document> implements StoreCollection<T> {
  docs: Document[] = [];
  readonly indexes: IndexDef[] = [ID_INDEX];

  constructor(
    readonly name: string,
    /** The shard key, on a sharded collection of a sharded cluster. */
    readonly shardKey: ShardKey | null,
    private readonly hooks: CollectionHooks,
  ) {
    if (shardKey && Object.keys(shardKey).join() !== '_id') this.indexes.push(shardKeyIndex(shardKey));
  }

  /**
   * Refuses what the planner or the router would not do well, then finds the matching documents
   * (in the sort's order). A read may go to every shard only when its comment says it is meant to
   * ('broadcast: why'): a background scan across the deployment, never a request's read.
   */
  private matching(query: QueryShape & { comment?: unknown }, write?: string): Document[] {
    assertPlanned(this.name, this.indexes, query);
    if (this.shardKey) {
      const broadcast = typeof query.comment === 'string' && query.comment.startsWith('broadcast:');
      if (write) assertWholeKey(this.name, this.shardKey, query.filter, write);
      else if (!broadcast) assertTargeted(this.name, this.shardKey, query.filter);
    }
    const matcher = new Query(query.filter);
    const found = this.docs.filter((doc) => matcher.test(doc));
    return query.sort ? find(found, {}).sort(query.sort).all() : found;
  }

  private run(filter: Document, options: FindOptions = {}): Document[] {
    const sort = options.sort as Record<string, 1 | -1> | undefined;
    const hint = typeof options.hint === 'string' ? options.hint : undefined;
    const matched = this.matching({ filter, sort, limit: options.limit, hint, comment: options.comment });
    let cursor = find(matched, {}, options.projection as Document | undefined);
    if (options.limit) cursor = cursor.limit(options.limit);
    return cursor.all().map(copy) as Document[];
  }

  /** Stores doc after checking every unique index against the documents other than the one it replaces. */
  private store(doc: Document, replacing?: Document): void {
    if (this.shardKey && !replacing) assertHasKey(this.name, this.shardKey, doc);
    assertUnique(this.name, this.indexes, this.docs.filter((d) => d !== replacing), doc);
    if (replacing) this.docs[this.docs.indexOf(replacing)] = doc;
    else this.docs.push(doc);
  }

  /** The document an upsert inserts: the filter's equality fields, $setOnInsert, then the update's operators. */
  private upserted(filter: Document, modifier: Document): Document {
    const doc: Document = {};
    for (const [field, value] of Object.entries(filter)) {
      const operators = value && typeof value === 'object' && !(value instanceof Date) && Object.keys(value).every((k) => k.startsWith('$'));
      if (!field.startsWith('$') && !operators) doc[field] = copy(value);
    }
    const { $setOnInsert, ...rest } = modifier;
    Object.assign(doc, copy($setOnInsert ?? {}));
    update(doc, rest as Modifier<Document>);
    doc._id ??= new ObjectId();
    return doc;
  }

  /** Applies an update to the first match in the sort's order (or upserts); returns the document before and after. */
  private modify(filter: Document, modifier: Document, what: string, upsert = false, sort?: Record<string, 1 | -1>) {
    this.hooks.beforeWrite();
    const [before] = this.matching({ filter, sort, limit: 1 }, upsert ? `an upsert (${what})` : what);
    if (!before) {
      if (!upsert) return { before: null, after: null, modified: false, upsertedId: null };
      const doc = this.upserted(filter, modifier);
      this.store(doc);
      return { before: null, after: doc, modified: false, upsertedId: doc._id };
    }
    const { $setOnInsert: _ignored, ...rest } = modifier;
    const after = copy(before);
    const modified = update(after, rest as Modifier<Document>).length > 0;
    if (modified) this.store(after, before);
    return { before, after: modified ? after : before, modified, upsertedId: null };
  }

  find(filter: Filter<T>, options?: FindOptions): ResultCursor<WithId<T>> {
    return { toArray: async () => (await turn(), this.run(filter as Document, options) as WithId<T>[]) };
  }

  async findOne(filter: Filter<T>, options?: FindOptions): Promise<WithId<T> | null> {
    await turn();
    return (this.run(filter as Document, { ...options, limit: 1 })[0] as WithId<T> | undefined) ?? null;
  }

  async insertOne(doc: OptionalUnlessRequiredId<T>): Promise<InsertOneResult<T>> {
    await turn();
    this.hooks.beforeWrite();
    const stored = copy(doc as Document);
    stored._id ??= new ObjectId();
    this.store(stored);
    return { acknowledged: true, insertedId: stored._id };
  }

  async insertMany(docs: ReadonlyArray<OptionalUnlessRequiredId<T>>): Promise<InsertManyResult<T>> {
    await turn();
    this.hooks.beforeWrite();
    const insertedIds: Record<number, unknown> = {};
    // Ordered, like the driver's default: the documents before a failing one stay inserted.
    docs.forEach((doc, i) => {
      const stored = copy(doc as Document);
      stored._id ??= new ObjectId();
      this.store(stored);
      insertedIds[i] = stored._id;
    });
    return { acknowledged: true, insertedCount: docs.length, insertedIds } as InsertManyResult<T>;
  }

  async updateOne(filter: Filter<T>, modifier: UpdateFilter<T>, options?: UpdateOptions): Promise<UpdateResult<T>> {
    await turn();
    const { before, modified, upsertedId } = this.modify(filter as Document, modifier as Document, 'updateOne', options?.upsert);
    return {
      acknowledged: true,
      matchedCount: before ? 1 : 0,
      modifiedCount: modified ? 1 : 0,
      upsertedCount: upsertedId === null ? 0 : 1,
      upsertedId,
    } as UpdateResult<T>;
  }

  async findOneAndUpdate(filter: Filter<T>, modifier: UpdateFilter<T>, options: FindOneAndUpdateOptions): Promise<WithId<T> | null> {
    await turn();
    const sort = options.sort as Record<string, 1 | -1> | undefined;
    const { before, after } = this.modify(filter as Document, modifier as Document, 'findOneAndUpdate', options.upsert, sort);
    // The driver's default is the document before the update.
    const doc = options.returnDocument === 'after' ? after : before;
    if (!doc) return null;
    return find([copy(doc)], {}, options.projection as Document | undefined).all()[0] as WithId<T>;
  }

  async deleteOne(filter: Filter<T>): Promise<DeleteResult> {
    await turn();
    this.hooks.beforeWrite();
    const [doc] = this.matching({ filter: filter as Document }, 'deleteOne');
    if (doc) this.docs.splice(this.docs.indexOf(doc), 1);
    return { acknowledged: true, deletedCount: doc ? 1 : 0 };
  }

  aggregate<R extends Document = Document>(pipeline: Document[]): ResultCursor<R> {
    return {
      toArray: async () => {
        await turn();
        const [first, ...rest] = pipeline;
        if (!first || !('$match' in first)) throw new Error(`mingo stand-in: a pipeline on ${this.name} must start with an indexed $match`);
        return new Aggregator(rest).run(this.matching({ filter: first.$match }).map(copy)) as R[];
      },
    };
  }

  async countDocuments(filter: Filter<T>): Promise<number> {
    await turn();
    return this.matching({ filter: filter as Document }).length;
  }

  async createIndex(spec: IndexSpecification, options: CreateIndexesOptions = {}): Promise<string> {
    await turn();
    const key = spec as IndexKey;
    const name = options.name ?? defaultIndexName(key);
    const index: IndexDef = { name, key, unique: options.unique ?? false, partialFilterExpression: options.partialFilterExpression };
    if (assertNoConflict(this.name, this.indexes, index) === 'exists') return name;
    if (this.shardKey) assertUniqueCompatible(this.name, this.shardKey, index);
    // Building a unique index over colliding documents fails, as on the server.
    this.docs.forEach((doc, i) => assertUnique(this.name, [index], this.docs.slice(0, i), doc));
    await this.hooks.build(this.name, index);
    this.indexes.push(index);
    return name;
  }
}
