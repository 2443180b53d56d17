// The sharded-cluster rules of the mingo stand-in (a query-level stand-in, not a mongos; see
// mingo-db.ts). A mongos sends an operation only to the shards that own its shard key values when
// the filter names them, and to every shard otherwise (a scatter-gather that costs every shard:
// https://www.mongodb.com/docs/v7.0/core/sharded-cluster-query-router/). The stand-in knows each
// sharded collection's key and refuses:
// - a read (find, findOne, count, a pipeline's first $match) whose filter, or any $or branch of it,
//   does not pin the key's first field by equality or $in (a range on a hashed field is no target);
// - a single-document write (updateOne, findOneAndUpdate, deleteOne) or an upsert whose filter does
//   not pin every field of the key by equality, and an insert of a document without every field of
//   the key (https://www.mongodb.com/docs/v7.0/core/sharding-shard-key/#shard-key-requirements);
// - a unique index whose fields do not start with the key's fields (the server's
//   ShardKeyPattern::isUniqueIndexCompatible: {a: 'hashed'} allows a unique {a: 1, b: 1};
//   https://www.mongodb.com/docs/v7.0/core/sharding-shard-key-indexes/#unique-indexes).
import { type Document, MongoServerError } from 'mongodb';
import { type IndexDef, type IndexKey, branchesOf, canonical, pinnedValues } from './mingo-planner.ts';

export type ShardKey = IndexKey;

/** Refuses a read that would go to every shard. */
export function assertTargeted(collection: string, key: ShardKey, filter: Document): void {
  const [first] = Object.keys(key);
  if (pinnedValues(filter, first!) !== null) return;
  for (const branch of branchesOf(filter)) {
    if (pinnedValues(branch, first!) === null) {
      throw new Error(
        `mingo stand-in (sharded cluster): ${collection} is sharded on ${canonical(key)}; ${canonical(filter)} does not target it and would go to every shard`,
      );
    }
  }
}

/** Refuses a single-document write or upsert that does not name its document's whole shard key. */
export function assertWholeKey(collection: string, key: ShardKey, filter: Document, what: string): void {
  const missing = Object.keys(key).filter((field) => (pinnedValues(filter, field)?.length ?? 0) !== 1);
  if (missing.length > 0) {
    throw new Error(
      `mingo stand-in (sharded cluster): ${what} on ${collection} (sharded on ${canonical(key)}) must name the whole shard key by equality; ${canonical(filter)} lacks ${missing.join(', ')}`,
    );
  }
}

/** Refuses to insert a document without its shard key. */
export function assertHasKey(collection: string, key: ShardKey, doc: Document): void {
  const missing = Object.keys(key).filter((field) => doc[field] === undefined);
  if (missing.length > 0) {
    throw new Error(`mingo stand-in (sharded cluster): a document of ${collection} lacks shard key field ${missing.join(', ')}`);
  }
}

/** Refuses a unique index the shards cannot enforce, as createIndexes does (CannotCreateIndex). */
export function assertUniqueCompatible(collection: string, key: ShardKey, index: IndexDef): void {
  if (!index.unique) return;
  const indexFields = Object.keys(index.key);
  if (indexFields[0] === '_id') return;
  const keyFields = Object.keys(key);
  if (keyFields.every((field, i) => indexFields[i] === field)) return;
  const message = `cannot create unique index over ${canonical(index.key)} with shard key pattern ${canonical(key)} (collection ${collection})`;
  throw new MongoServerError({ message, errmsg: message, code: 67, codeName: 'CannotCreateIndex' });
}

/** The index a sharded collection has on its shard key (shardCollection creates it). */
export function shardKeyIndex(key: ShardKey): IndexDef {
  return { name: Object.entries(key).map(([f, o]) => `${f}_${o}`).join('_'), key, unique: false };
}
