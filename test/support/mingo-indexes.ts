// Index bookkeeping for the mingo stand-in (a query-level stand-in, not a MongoDB server; see
// mingo-db.ts). Unique indexes, partial ones included, are enforced the way the server does and
// fail with an error shaped like the driver's (code 11000, keyPattern, keyValue); index creation
// fails like the server's when a name or a key pattern is taken by another definition; and every
// query is checked against the planner's rules of mingo-planner.ts before it runs.
import { Query } from 'mingo';
import { type Document, MongoServerError } from 'mongodb';
import {
  type IndexDef,
  type IndexKey,
  SMALL_SORT,
  branchesOf,
  canonical,
  eligible,
  pointBound,
  providesSort,
  servingIndexes,
} from './mingo-planner.ts';

export type { IndexDef, IndexKey };

/** The index MongoDB creates with every collection. */
export const ID_INDEX: IndexDef = { name: '_id_', key: { _id: 1 }, unique: true };

/** The default name MongoDB gives an index ({a: 1, b: -1} → a_1_b_-1). */
export function defaultIndexName(key: IndexKey): string {
  return Object.entries(key).map(([field, order]) => `${field}_${order}`).join('_');
}

/** The index's key values of doc (missing fields are null, as in MongoDB), or null when a partial index leaves doc out. */
function entryOf(index: IndexDef, doc: Document): Document | null {
  if (index.partialFilterExpression && !new Query(index.partialFilterExpression).test(doc)) return null;
  return Object.fromEntries(Object.keys(index.key).map((field) => [field, doc[field] ?? null]));
}

/** Throws the driver's duplicate-key error when candidate collides with another document on a unique index. */
export function assertUnique(collection: string, indexes: readonly IndexDef[], others: readonly Document[], candidate: Document) {
  for (const index of indexes) {
    if (!index.unique) continue;
    const entry = entryOf(index, candidate);
    if (!entry) continue;
    const text = canonical(entry);
    if (others.some((doc) => {
      const other = entryOf(index, doc);
      return other !== null && canonical(other) === text;
    })) {
      const message = `E11000 duplicate key error collection: ${collection} index: ${index.name} dup key: ${canonical(entry)}`;
      throw new MongoServerError({ message, errmsg: message, code: 11000, codeName: 'DuplicateKey', keyPattern: index.key, keyValue: entry });
    }
  }
}

/** The server's answer to an index whose name or key pattern another index of the collection already has. */
export function assertNoConflict(collection: string, indexes: readonly IndexDef[], wanted: IndexDef): 'exists' | 'new' {
  const sameName = indexes.find((i) => i.name === wanted.name);
  if (sameName) {
    if (canonical(sameName) === canonical(wanted)) return 'exists';
    const keyChanged = canonical(sameName.key) !== canonical(wanted.key);
    const message = keyChanged
      ? `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${canonical(wanted)}, existing index: ${canonical(sameName)}`
      : `An equivalent index already exists with the same name but different options. Requested index: ${canonical(wanted)}, existing index: ${canonical(sameName)}`;
    throw new MongoServerError({
      message,
      errmsg: message,
      code: keyChanged ? 86 : 85,
      codeName: keyChanged ? 'IndexKeySpecsConflict' : 'IndexOptionsConflict',
    });
  }
  // Stricter than a server of a recent feature-compatibility version, which accepts a second index
  // on one key pattern when the partial filters differ: the store never relies on that.
  const sameKey = indexes.find((i) => canonical(i.key) === canonical(wanted.key));
  if (sameKey) {
    const message = `Index already exists with a different name: ${sameKey.name} (collection ${collection}, key ${canonical(wanted.key)})`;
    throw new MongoServerError({ message, errmsg: message, code: 85, codeName: 'IndexOptionsConflict' });
  }
  return 'new';
}

export interface QueryShape {
  filter: Document;
  sort?: Record<string, 1 | -1>;
  limit?: number;
  /** The name of the index the query is pinned to. */
  hint?: string;
}

/** Refuses a query no eligible index serves, or whose sort no serving index provides past a small bound. */
export function assertPlanned(collection: string, indexes: readonly IndexDef[], query: QueryShape): void {
  const { filter, sort, limit, hint } = query;
  const described = () => `${collection}.find(${canonical(filter)}${sort ? `, sort ${canonical(sort)}` : ''}${hint ? `, hint ${hint}` : ''})`;
  let candidates = indexes;
  if (hint !== undefined) {
    const hinted = indexes.find((i) => i.name === hint);
    if (!hinted) throw new Error(`mingo stand-in: ${described()} names an index ${collection} does not have`);
    if (!eligible(hinted, filter)) throw new Error(`mingo stand-in: ${described()}: the filter does not imply the partial filter of ${hint}`);
    candidates = [hinted];
  }
  // An $or beside other conditions is a residual filter of the index that serves those; an $or
  // alone is planned branch by branch, each on its own index.
  const whole = servingIndexes(candidates, filter);
  const branches = whole.length > 0 ? [filter] : branchesOf(filter);
  const serving = whole.length > 0 ? [whole] : branches.map((branch) => servingIndexes(candidates, branch));
  const unserved = branches.findIndex((_, i) => serving[i]!.length === 0);
  if (unserved >= 0) {
    throw new Error(`mingo stand-in: no eligible index of ${collection} serves ${canonical(branches[unserved])} in ${described()}`);
  }
  if (!sort || Object.keys(sort).length === 0) return;
  if (branches.length === 1 && serving[0]!.some((index) => providesSort(index, filter, sort))) return;
  const held = branches.reduce((sum, branch) => sum + pointBound(indexes, branch), 0);
  if (held <= Math.max(SMALL_SORT, limit ?? 0)) return;
  throw new Error(`mingo stand-in: no index of ${collection} provides the sort of ${described()}, and nothing bounds an in-memory sort of it`);
}
