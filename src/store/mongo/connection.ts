// Connecting to a MongoDB server: majority writes, retryable writes and reads, a short server
// selection timeout so a wrong URL fails start-up in seconds, and transactions where the
// deployment has them (a replica set or a sharded cluster; a standalone server has none).
import { type ClientSession, type Db, MongoClient, type TransactionOptions } from 'mongodb';
import type { Session, TransactionRunner } from './database.ts';

const DEFAULT_DB_NAME = 'chat';

/** Reads of a transaction see one snapshot; its commit waits for a majority, like every write. */
const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority' },
  readPreference: 'primary',
};

/** The hosts of a connection string, without credentials or options (for messages and logs). */
export function describeMongoUrl(url: string): string {
  const match = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)/.exec(url);
  return match?.[1] || '(unparseable MongoDB URL)';
}

/** The database named in the connection string's path, if any. */
function dbNameOf(url: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]+)/.exec(url);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

/** error's message with the URL's credentials (if any) blanked out. */
function reasonOf(error: unknown, url: string): string {
  let reason = error instanceof Error ? error.message : String(error);
  const userinfo = /^mongodb(?:\+srv)?:\/\/([^@/]*)@/.exec(url)?.[1];
  for (const secret of userinfo ? [userinfo, ...userinfo.split(':')] : []) {
    if (secret) reason = reason.split(secret).join('***');
  }
  return reason;
}

/** True when the server belongs to a replica set or is a mongos (both run multi-document transactions). */
async function supportsTransactions(db: Db): Promise<boolean> {
  const hello = await db.command({ hello: 1 });
  return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
}

/** Runs each unit in a transaction of its own session; withTransaction retries transient conflicts. */
function transactionsOf(client: MongoClient): TransactionRunner {
  return async <R>(fn: (session: Session) => Promise<R>): Promise<R> => {
    const session: ClientSession = client.startSession();
    try {
      return await session.withTransaction(() => fn(session), TRANSACTION_OPTIONS);
    } finally {
      await session.endSession();
    }
  };
}

export interface MongoConnection {
  db: Db;
  /** Null on a standalone server. */
  transactions: TransactionRunner | null;
  close(): Promise<void>;
}

/** The error start-up reports when MongoDB cannot be used: the hosts and the reason, never credentials. */
export function unusable(url: string, error: unknown): Error {
  // No `cause`: driver errors may quote the connection string, credentials included.
  return new Error(`cannot reach MongoDB at ${describeMongoUrl(url)}: ${reasonOf(error, url)}`);
}

/** Connects, pings and detects transactions; rejects with unusable()'s message when the server cannot be reached. */
export async function connectMongo(url: string, dbName?: string): Promise<MongoConnection> {
  let client: MongoClient | undefined;
  try {
    client = new MongoClient(url, {
      serverSelectionTimeoutMS: 5000,
      writeConcern: { w: 'majority' },
      retryWrites: true,
      retryReads: true,
    });
    await client.connect();
    const db = client.db(dbName ?? dbNameOf(url) ?? DEFAULT_DB_NAME);
    await db.command({ ping: 1 });
    const connected = client;
    const transactions = (await supportsTransactions(db)) ? transactionsOf(connected) : null;
    return { db, transactions, close: () => connected.close() };
  } catch (error) {
    await client?.close().catch(() => undefined);
    throw unusable(url, error);
  }
}
