// Index bookkeeping for the mingo stand-in (a query-level stand-in, not a MongoDB server; see
// mingo-db.ts). Unique indexes, partial ones included, are enforced the way the server does and
// fail with an error shaped like the driver's (code 11000, keyPattern, keyValue); and a filter that
// no index could serve is refused, so the store's queries are held to "no collection scans" even
// without a query planner.
import { Query } from 'mingo';
import { type Document, MongoServerError, ObjectId } from 'mongodb';

export interface IndexDef {
  name: string;
  key: Record<string, 1 | -1>;
  unique: boolean;
  partialFilterExpression?: Document;
}

/** The index MongoDB creates with every collection. */
export const ID_INDEX: IndexDef = { name: '_id_', key: { _id: 1 }, unique: true };

/** The default name MongoDB gives an index ({a: 1, b: -1} → a_1_b_-1). */
export function defaultIndexName(key: Record<string, 1 | -1>): string {
  return Object.entries(key).map(([field, order]) => `${field}_${order}`).join('_');
}

/** A value in a canonical text form, so equal BSON values (Dates, ObjectIds) compare equal. */
function canonical(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (value instanceof Date) return `{"$date":${value.getTime()}}`;
  if (value instanceof ObjectId) return `{"$oid":"${value.toHexString()}"}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
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

const NOT_SELECTIVE = new Set(['$ne', '$nin', '$not', '$exists', '$type', '$regex']);

/** True when the filter's condition on a field bounds an index scan (equality, $in or a range). */
function bounds(condition: unknown): boolean {
  if (condition === undefined) return false;
  if (condition === null || typeof condition !== 'object' || condition instanceof Date || condition instanceof ObjectId) return true;
  const operators = Object.keys(condition);
  if (operators.length === 0 || !operators.every((op) => op.startsWith('$'))) return true;
  return operators.some((op) => !NOT_SELECTIVE.has(op));
}

/** True when the filter implies the partial index's filter (the server's rule for using a partial index). */
function implies(filter: Document, partial: Document | undefined): boolean {
  if (!partial) return true;
  return Object.entries(partial).every(([field, wanted]) => {
    const given = filter[field];
    if (wanted && typeof wanted === 'object' && '$type' in wanted) return wanted.$type === 'string' && typeof given === 'string';
    return canonical(given) === canonical(wanted);
  });
}

/** True when some index could serve the filter: its first field bounded, its partial filter implied; $or branch by branch. */
export function isServed(indexes: readonly IndexDef[], filter: Document): boolean {
  const served = indexes.some((index) => bounds(filter[Object.keys(index.key)[0]!]) && implies(filter, index.partialFilterExpression));
  if (served) return true;
  const { $or: branches, ...rest } = filter;
  return Array.isArray(branches) && branches.length > 0 && branches.every((branch: Document) => isServed(indexes, { ...rest, ...branch }));
}
