// The query planner's rules the mingo stand-in holds the store to (a query-level stand-in, not a
// MongoDB server; see mingo-db.ts). The real planner chooses among the indexes that can answer a
// query; the stand-in cannot choose, so it refuses what no index lets the server do well:
// - a partial index is eligible only when the filter implies its partialFilterExpression
//   (https://www.mongodb.com/docs/v7.0/core/index-partial/#query-coverage): the planner's
//   isSubsetOf (src/mongo/db/matcher/expression_algo.cpp), whose rules `implies` follows:
//   equality and ranges imply a range they fall in ({seq: 5} and {seq: {$gte: 8}} imply
//   {$gt: 4}, only between values of one type), any comparison with a non-null value implies
//   {$exists: true}, an $in implies what each of its values implies, and a $type is implied only
//   by the same $type (an equality on a string does not imply {$type: 'string'});
// - a filter is served when an eligible index bounds its scan (the index's first field is matched
//   by equality, $in or a range; a hashed field by equality or $in only) and leaves no equality or
//   range of the filter to be tested on documents read one by one (every compared field is in the
//   index, unless the scan is pinned to single documents of a unique index); an $or alone is served
//   when each branch is, and an $or beside served conditions is tested on what they select;
// - a sort is provided by a serving index whose fields after the equalities are the sort's fields,
//   all in its order or all reversed. Any other sort happens in memory (a blocking SORT stage), and
//   is allowed only where the filter itself bounds what it holds to a page: point look-ups on a
//   unique index (`_id: {$in: ids}`) of no more than the query's limit, or of at most SMALL_SORT.
import { type Document, ObjectId } from 'mongodb';

export type IndexKey = Record<string, 1 | -1 | 'hashed'>;

export interface IndexDef {
  name: string;
  key: IndexKey;
  unique: boolean;
  partialFilterExpression?: Document;
}

/** Documents a sort no index provides may hold when nothing else bounds it. */
export const SMALL_SORT = 100;

type Comparison = '$eq' | '$gt' | '$gte' | '$lt' | '$lte';

/** A filter as the planner parses it: leaves on one path, and $and / $or of them. */
type Expr =
  | { and: Expr[] }
  | { or: Expr[] }
  | { path: string; op: string; value: unknown };

const isOperatorObject = (value: unknown): value is Record<string, unknown> =>
  value !== null &&
  typeof value === 'object' &&
  !(value instanceof Date) &&
  !(value instanceof ObjectId) &&
  !Array.isArray(value) &&
  Object.keys(value).length > 0 &&
  Object.keys(value).every((k) => k.startsWith('$'));

/** Parses a filter document: fields side by side are an $and, like the server's top level. */
export function parse(filter: Document): Expr {
  const children: Expr[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and') children.push({ and: (value as Document[]).map(parse) });
    else if (key === '$or') children.push({ or: (value as Document[]).map(parse) });
    else if (key.startsWith('$')) throw new Error(`mingo stand-in: top-level ${key} is not modelled`);
    else if (isOperatorObject(value)) for (const [op, operand] of Object.entries(value)) children.push({ path: key, op, value: operand });
    else children.push({ path: key, op: '$eq', value });
  }
  return children.length === 1 ? children[0]! : { and: children };
}

/** The type bracket a value compares within (the server compares values of one canonical type only). */
function typeOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Date) return 'date';
  if (value instanceof ObjectId) return 'objectId';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A value in a canonical text form, so equal BSON values (Dates, ObjectIds) compare equal. */
export function canonical(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (value instanceof Date) return `{"$date":${value.getTime()}}`;
  if (value instanceof ObjectId) return `{"$oid":"${value.toHexString()}"}`;
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function compare(a: unknown, b: unknown): number {
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [canonical(a), canonical(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

const COMPARISONS = new Set(['$eq', '$gt', '$gte', '$lt', '$lte']);

const equivalent = (a: Expr, b: Expr) => canonical(a) === canonical(b);

/** lhs implies rhs for two comparisons on one path (expression_algo.cpp, _isSubsetOf of comparisons). */
function comparisonImplies(lhs: { op: Comparison; value: unknown }, rhs: { op: Comparison; value: unknown }): boolean {
  if (typeOf(lhs.value) !== typeOf(rhs.value)) return false;
  const cmp = compare(lhs.value, rhs.value);
  if (lhs.op === rhs.op && cmp === 0) return true;
  const below = ['$eq', '$lt', '$lte'].includes(lhs.op);
  const above = ['$eq', '$gt', '$gte'].includes(lhs.op);
  if (rhs.op === '$lt') return below && cmp < 0;
  if (rhs.op === '$lte') return below && cmp <= 0;
  if (rhs.op === '$gt') return above && cmp > 0;
  if (rhs.op === '$gte') return above && cmp >= 0;
  return false;
}

/** True when every document the query (lhs) matches is matched by the partial filter (rhs). */
export function implies(lhs: Expr, rhs: Expr): boolean {
  if (equivalent(lhs, rhs)) return true;
  if ('or' in rhs) return rhs.or.some((child) => implies(lhs, child));
  if ('and' in rhs) return rhs.and.every((child) => implies(lhs, child));
  if ('and' in lhs) return lhs.and.some((child) => implies(child, rhs));
  if ('or' in lhs) return lhs.or.every((child) => implies(child, rhs));
  if (lhs.path !== rhs.path) return false;
  if (COMPARISONS.has(rhs.op)) {
    if (COMPARISONS.has(lhs.op)) return comparisonImplies(lhs as never, rhs as never);
    if (lhs.op === '$in') return (lhs.value as unknown[]).every((value) => comparisonImplies({ op: '$eq', value }, rhs as never));
    return false;
  }
  if (rhs.op === '$exists' && rhs.value === true) {
    if (COMPARISONS.has(lhs.op)) return lhs.value !== null;
    if (lhs.op === '$in') return !(lhs.value as unknown[]).includes(null);
    if (lhs.op === '$ne') return lhs.value === null;
    return ['$exists', '$type', '$regex', '$size', '$elemMatch', '$mod'].includes(lhs.op) && lhs.value !== false;
  }
  if (rhs.op === '$in') return (rhs.value as unknown[]).some((value) => implies(lhs, { path: rhs.path, op: '$eq', value }));
  // $type (and anything else) only from an equivalent expression, checked above.
  return false;
}

/** The conditions of a (non-$or) filter on each of its top-level paths. */
function conditionsByPath(filter: Document): Map<string, { op: string; value: unknown }[]> {
  const byPath = new Map<string, { op: string; value: unknown }[]>();
  const expr = parse(filter);
  for (const leaf of 'and' in expr ? expr.and : [expr]) {
    if ('path' in leaf) byPath.set(leaf.path, [...(byPath.get(leaf.path) ?? []), { op: leaf.op, value: leaf.value }]);
  }
  return byPath;
}

/** The values a path is pinned to by equality or $in (null when it is not pinned). */
export function pinnedValues(filter: Document, path: string): unknown[] | null {
  for (const { op, value } of conditionsByPath(filter).get(path) ?? []) {
    if (op === '$eq') return [value];
    if (op === '$in') return value as unknown[];
  }
  return null;
}

/** True when the conditions on an index field give its scan bounds. */
function bounded(filter: Document, path: string, hashed: boolean): boolean {
  const ops = (conditionsByPath(filter).get(path) ?? []).map((c) => c.op);
  return ops.some((op) => op === '$eq' || op === '$in' || (!hashed && ['$gt', '$gte', '$lt', '$lte'].includes(op)));
}

/** True when the index may answer the filter at all: its partial filter, if any, is implied. */
export function eligible(index: IndexDef, filter: Document): boolean {
  return !index.partialFilterExpression || implies(parse(filter), parse(index.partialFilterExpression));
}

const SELECTIVE = new Set(['$eq', '$in', '$gt', '$gte', '$lt', '$lte']);

/** The paths the filter compares anywhere (in a contained $or or $and too), by equality, $in or a range. */
function comparedPaths(expr: Expr, into = new Set<string>()): Set<string> {
  if ('and' in expr) for (const child of expr.and) comparedPaths(child, into);
  else if ('or' in expr) for (const child of expr.or) comparedPaths(child, into);
  else if (SELECTIVE.has(expr.op)) into.add(expr.path);
  return into;
}

/** The paths the filter compares only as the index's partial filter does (every indexed document matches them). */
function partialPaths(index: IndexDef, filter: Document): Set<string> {
  const paths = new Set<string>();
  if (!index.partialFilterExpression) return paths;
  const partial = parse(index.partialFilterExpression);
  const partialLeaves = 'and' in partial ? partial.and : [partial];
  const query = parse(filter);
  for (const leaf of 'and' in query ? query.and : [query]) {
    if ('path' in leaf && partialLeaves.some((p) => equivalent(leaf, p))) paths.add(leaf.path);
  }
  return paths;
}

/**
 * The eligible indexes that serve the filter (a non-$or filter, or one whose $or is contained): the
 * index bounds the scan by its first field, and every condition of the filter can be checked on
 * the index's keys, so that nothing selective is left to test on documents read one by one (the
 * unfixed look-up {channelId, authorId, clientMessageId} on {channelId, seq} scans the channel);
 * conditions beside a scan pinned to single documents of a unique index are free.
 */
export function servingIndexes(indexes: readonly IndexDef[], filter: Document): IndexDef[] {
  const compared = comparedPaths(parse(filter));
  return indexes.filter((index) => {
    const fields = Object.keys(index.key);
    if (!eligible(index, filter) || !bounded(filter, fields[0]!, index.key[fields[0]!] === 'hashed')) return false;
    if (index.unique && fields.every((field) => pinnedValues(filter, field) !== null)) return true;
    const checked = new Set([...fields, ...partialPaths(index, filter)]);
    return [...compared].every((path) => checked.has(path));
  });
}

/** The filter's $or branches, each with the conditions beside the $or (the whole filter when it has none). */
export function branchesOf(filter: Document): Document[] {
  const { $or: branches, ...rest } = filter;
  if (!Array.isArray(branches)) return [filter];
  return branches.flatMap((branch: Document) => branchesOf({ ...rest, ...branch }));
}

/**
 * True when the index scan yields documents in the sort's order (or its reverse): after the index
 * fields the filter pins to one value, its next fields are the sort's fields (a sort field pinned to
 * one value orders nothing and is left out; a field pinned to several, by $in, is scanned in order).
 */
export function providesSort(index: IndexDef, filter: Document, sort: Record<string, 1 | -1>): boolean {
  const single = (field: string) => pinnedValues(filter, field)?.length === 1;
  const fields = Object.entries(index.key);
  let at = 0;
  while (at < fields.length && single(fields[at]![0])) at++;
  const wanted = Object.entries(sort).filter(([field]) => !single(field));
  let direction = 0;
  return wanted.every(([field, order], i) => {
    const [indexField, indexOrder] = fields[at + i] ?? [];
    if (indexField !== field || indexOrder === 'hashed' || indexOrder === undefined) return false;
    const same = indexOrder === order ? 1 : -1;
    direction ||= same;
    return direction === same;
  });
}

/** How many documents point look-ups on a unique index pin the filter to (Infinity when none does). */
export function pointBound(indexes: readonly IndexDef[], filter: Document): number {
  let bound = Number.POSITIVE_INFINITY;
  for (const index of indexes) {
    if (!index.unique || !eligible(index, filter)) continue;
    let product = 1;
    for (const field of Object.keys(index.key)) product *= pinnedValues(filter, field)?.length ?? Number.POSITIVE_INFINITY;
    bound = Math.min(bound, product);
  }
  return bound;
}
