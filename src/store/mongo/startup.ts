// Start-up: every collection of the layout is created, then its declared indexes, one at a time,
// and each way this can fail is said in words an operator can act on. Collections are created here,
// never inside a transaction (a sharded cluster refuses that in a cross-shard transaction, and
// elsewhere it can conflict with concurrent transactions). An index build has no time limit of its
// own (a new index over a big collection takes as long as the collection is big), so start-up waits
// for one at most indexBuildWaitMs; the build then goes on in the server (a client that stops
// waiting does not end it) and a later start finds it done.
import { StartupFailure } from './connection.ts';
import type { CollectionSpec, IndexSpec, StoreDatabase } from './database.ts';

/** MongoDB's answer to creating a collection that exists already. */
const NAMESPACE_EXISTS = 48;
/** An index of that name exists with other options, or the key pattern exists under another name. */
const INDEX_OPTIONS_CONFLICT = 85;
/** An index of that name exists with another key pattern. */
const INDEX_KEY_SPECS_CONFLICT = 86;
/** The server cannot create the index (on a sharded collection: a unique index the shards cannot enforce). */
const CANNOT_CREATE_INDEX = 67;
const DUPLICATE_KEY = 11000;

interface ServerError {
  code?: unknown;
  message?: unknown;
  keyValue?: unknown;
}

const describeIndex = (index: IndexSpec) =>
  `${JSON.stringify(index.key)}${index.unique ? ' unique' : ''}${index.partialFilterExpression ? ` partial on ${JSON.stringify(index.partialFilterExpression)}` : ''}`;

/** The failure of one index's creation, with what the operator should do. */
function indexFailure(collection: string, index: IndexSpec, error: unknown): Error {
  const { code, message, keyValue } = (error ?? {}) as ServerError;
  const reason = String(message ?? error);
  if (code === INDEX_OPTIONS_CONFLICT || code === INDEX_KEY_SPECS_CONFLICT) {
    // The other index is this one's name with another definition, or this key pattern under another name.
    const other = /different name: (\S+)/.exec(reason)?.[1] ?? index.name;
    return new StartupFailure(
      `index conflict on ${collection}: index ${other} differs from the declared ${index.name} ${describeIndex(index)} (${reason}); ` +
        `drop it (db.${collection}.dropIndex('${other}')) and start again: start-up builds it as declared`,
    );
  }
  if (code === DUPLICATE_KEY) {
    return new StartupFailure(
      `cannot build the unique index ${index.name} ${describeIndex(index)} on ${collection}: documents already share a key` +
        `${keyValue ? ` (${JSON.stringify(keyValue)})` : ''}; remove the duplicates and start again`,
    );
  }
  if (code === CANNOT_CREATE_INDEX) {
    return new StartupFailure(
      `cannot create index ${index.name} ${describeIndex(index)} on ${collection}: ${reason}; ` +
        `check how ${collection} is sharded (sh.status()) against the sharding plan`,
    );
  }
  return error instanceof Error ? error : new Error(reason);
}

/** Creates one index, waiting for its build at most waitMs. */
async function createIndex(db: StoreDatabase, collection: string, index: IndexSpec, waitMs: number): Promise<void> {
  const { key, ...options } = index;
  const build = db.collection(collection).createIndex(key, options);
  let timer: NodeJS.Timeout | undefined;
  const stillBuilding = new Promise<'building'>((resolve) => (timer = setTimeout(() => resolve('building'), waitMs)));
  try {
    const outcome = await Promise.race([build, stillBuilding]);
    if (outcome === 'building') {
      build.catch(() => undefined);
      throw new StartupFailure(
        `index ${index.name} of ${collection} is still being built after ${waitMs} ms; the build goes on in the server: ` +
          `start again once it is done (db.currentOp({ 'command.createIndexes': '${collection}' }) shows it), or allow longer with MONGODB_INDEX_BUILD_WAIT_MS`,
      );
    }
  } catch (error) {
    throw error instanceof StartupFailure ? error : indexFailure(collection, index, error);
  } finally {
    clearTimeout(timer);
  }
}

/** Creates every collection of the layout and its indexes (no-ops where they exist). */
export async function ensureLayout(db: StoreDatabase, layout: readonly CollectionSpec[], indexBuildWaitMs: number): Promise<void> {
  for (const { name, indexes } of layout) {
    try {
      await db.command({ create: name });
    } catch (error) {
      if ((error as ServerError).code !== NAMESPACE_EXISTS) throw error;
    }
    for (const index of indexes) await createIndex(db, name, index, indexBuildWaitMs);
  }
}
