// The SQLite file and its statements: opening it (WAL, the tables), statements prepared once per
// store, IMMEDIATE units of work, and SQLite's errors in the store's vocabulary. Every query file
// of the store works through a Sql.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '../store.ts';
import { fillMarkerCounts, hasMarkerCounts } from './marker-counts.ts';
import { PUSH_SCHEMA } from './push.ts';
import { SCHEMA } from './schema.ts';
import { ensureNameKeys } from './user-names.ts';

const UNIQUE_KEYS: Record<string, string> = {
  'channels.orgId, channels.name': 'channelName',
  'channels.orgId, channels.directKey': 'directKey',
};

/** SQLite's error in the store's vocabulary, or the error itself when it has no translation. */
export function translated(error: unknown): unknown {
  if (error instanceof Database.SqliteError) {
    if (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      const columns = error.message.replace(/^UNIQUE constraint failed: /, '');
      return new StoreError('duplicate', error.message, UNIQUE_KEYS[columns] ?? columns);
    }
    if (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_CANTOPEN') return new StoreError('unavailable', error.message);
  }
  return error;
}

const BUSY_TIMEOUT_MS = 10_000;

/**
 * Switches the file to WAL. Processes opening a fresh file at the same moment can each hold a read
 * lock while asking for the exclusive one; SQLite then answers SQLITE_BUSY at once instead of
 * waiting (waiting could deadlock), so the switch is retried, for as long as the busy timeout.
 */
function useWriteAheadLog(db: Database.Database): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let mode = 'locked'; ; ) {
    try {
      mode = String(db.pragma('journal_mode = WAL', { simple: true }));
      if (mode === 'wal') return;
    } catch (error) {
      if (!(error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY'))) throw error;
    }
    if (Date.now() > deadline) throw new StoreError('unavailable', `could not switch the SQLite file to WAL (journal mode: ${mode})`);
    Atomics.wait(pause, 0, 0, 5 + Math.random() * 20);
  }
}

/** Opens (creating when needed) the store file with its tables; ':memory:' gives a throw-away store. */
export function openDatabase(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (path !== ':memory:') useWriteAheadLog(db);
  // WAL with NORMAL sync survives a killed process (only an OS crash may lose the last commits).
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = OFF');
  // One IMMEDIATE transaction, so processes starting together create the tables one after another
  // (and only the first to create the marker counts fills them).
  db.transaction(() => {
    const counted = hasMarkerCounts(db);
    db.exec(SCHEMA + PUSH_SCHEMA);
    if (!counted) fillMarkerCounts(db);
    ensureNameKeys(db);
  }).immediate();
  return db;
}

/** A store file's statements, each prepared once, and its units of work. */
export class Sql {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  /** The statement for a text, prepared on first use. */
  readonly prepare = (text: string): Database.Statement => {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  };

  all<Row>(text: string, ...params: unknown[]): Row[] {
    return this.prepare(text).all(...params) as Row[];
  }

  get<Row>(text: string, ...params: unknown[]): Row | undefined {
    return this.prepare(text).get(...params) as Row | undefined;
  }

  run(text: string, ...params: unknown[]): Database.RunResult {
    return this.prepare(text).run(...params);
  }

  /** Runs fn as one IMMEDIATE transaction (taking the write lock up front avoids lock upgrades failing). */
  unit<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (error) {
      throw translated(error);
    }
  }

  /** Runs fn in a savepoint of the unit it is called in: when fn fails, only its own writes are undone. */
  savepoint<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Runs fn as one read transaction: what it reads comes from one snapshot. */
  snapshot<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
