// One collection of the mingo stand-in (a query-level stand-in for the driver, not a MongoDB
// server; see mingo-db.ts): documents in an array; filters, updates and pipelines evaluated by
// mingo; unique indexes enforced; unindexed filters refused. Documents are never changed in place
// (an update stores a new object), so a snapshot of a collection is a copy of its array.
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
import { ID_INDEX, type IndexDef, assertUnique, defaultIndexName, isServed } from './mingo-indexes.ts';

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

export class MingoCollection<T extends Document> implements StoreCollection<T> {
  docs: Document[] = [];
  readonly indexes: IndexDef[] = [ID_INDEX];

  constructor(readonly name: string) {}

  /** Refuses a filter no index could serve: the store promises no collection scans. */
  private indexed(filter: Document): Document {
    if (!isServed(this.indexes, filter)) {
      throw new Error(`mingo stand-in: no index of ${this.name} serves ${JSON.stringify(filter)}`);
    }
    return filter;
  }

  private matching(filter: Document): Document[] {
    const query = new Query(this.indexed(filter));
    return this.docs.filter((doc) => query.test(doc));
  }

  private run(filter: Document, options: FindOptions = {}): Document[] {
    let cursor = find(this.matching(filter), {}, options.projection as Document | undefined);
    if (options.sort) cursor = cursor.sort(options.sort as Record<string, 1 | -1>);
    if (options.limit) cursor = cursor.limit(options.limit);
    return cursor.all().map(copy) as Document[];
  }

  /** Stores doc after checking every unique index against the documents other than the one it replaces. */
  private store(doc: Document, replacing?: Document): void {
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

  /** Applies an update to the first match (or upserts); returns the document before and after. */
  private modify(filter: Document, modifier: Document, upsert = false) {
    const [before] = this.matching(filter);
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
    const stored = copy(doc as Document);
    stored._id ??= new ObjectId();
    this.store(stored);
    return { acknowledged: true, insertedId: stored._id };
  }

  async insertMany(docs: ReadonlyArray<OptionalUnlessRequiredId<T>>): Promise<InsertManyResult<T>> {
    await turn();
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
    const { before, modified, upsertedId } = this.modify(filter as Document, modifier as Document, options?.upsert);
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
    const { before, after } = this.modify(filter as Document, modifier as Document, options.upsert);
    // The driver's default is the document before the update.
    const doc = options.returnDocument === 'after' ? after : before;
    if (!doc) return null;
    return find([copy(doc)], {}, options.projection as Document | undefined).all()[0] as WithId<T>;
  }

  async deleteOne(filter: Filter<T>): Promise<DeleteResult> {
    await turn();
    const [doc] = this.matching(filter as Document);
    if (doc) this.docs.splice(this.docs.indexOf(doc), 1);
    return { acknowledged: true, deletedCount: doc ? 1 : 0 };
  }

  aggregate<R extends Document = Document>(pipeline: Document[]): ResultCursor<R> {
    return {
      toArray: async () => {
        await turn();
        const [first, ...rest] = pipeline;
        if (!first || !('$match' in first)) throw new Error(`mingo stand-in: a pipeline on ${this.name} must start with an indexed $match`);
        return new Aggregator(rest).run(this.matching(first.$match).map(copy)) as R[];
      },
    };
  }

  async countDocuments(filter: Filter<T>): Promise<number> {
    await turn();
    return this.matching(filter as Document).length;
  }

  async createIndex(spec: IndexSpecification, options: CreateIndexesOptions = {}): Promise<string> {
    await turn();
    const key = spec as Record<string, 1 | -1>;
    const name = options.name ?? defaultIndexName(key);
    const index: IndexDef = { name, key, unique: options.unique ?? false, partialFilterExpression: options.partialFilterExpression };
    const existing = this.indexes.find((i) => i.name === name);
    if (existing) {
      if (JSON.stringify(existing) !== JSON.stringify(index)) throw new Error(`mingo stand-in: index ${name} exists with other options`);
      return name;
    }
    // Building a unique index over colliding documents fails, as on the server.
    this.docs.forEach((doc, i) => assertUnique(this.name, [index], this.docs.slice(0, i), doc));
    this.indexes.push(index);
    return name;
  }
}
