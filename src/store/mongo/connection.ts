// Connecting to a MongoDB server with every wait bounded by one timeout (MONGODB_TIMEOUT_MS):
// finding a server or a new primary (serverSelectionTimeoutMS), a write's wait for the majority
// (wtimeoutMS: without it, a write blocks for as long as the majority is lost), a transaction's
// commit (maxCommitTimeMS) and its retries (transactions.ts). Writes are majority and retryable.
// In a replica set or a sharded cluster every read outside a transaction is a majority read: a
// read that feeds a cursor, a resume point or a seq must not see a write a failover can roll back
// (https://www.mongodb.com/docs/v7.0/reference/read-concern-majority/); a standalone server has no
// rollback, and its reads stay local. What the deployment is comes from `hello`: a replica set
// names its set (setName), a mongos says msg: 'isdbgrid'; both run transactions.
import { type Db, MongoClient, ReadConcern, type TransactionOptions, type WriteConcernSettings } from 'mongodb';
import type { TransactionRunner } from './database.ts';
import { boundedTransactions } from './transactions.ts';

const DEFAULT_DB_NAME = 'chat';

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
export function reasonOf(error: unknown, url: string): string {
  let reason = error instanceof Error ? error.message : String(error);
  const userinfo = /^mongodb(?:\+srv)?:\/\/([^@/]*)@/.exec(url)?.[1];
  for (const secret of userinfo ? [userinfo, ...userinfo.split(':')] : []) {
    if (secret) reason = reason.split(secret).join('***');
  }
  return reason;
}

/** What a `hello` answer says about the deployment. */
export interface Deployment {
  /** A replica set or a mongos: multi-document transactions and majority reads exist. */
  transactions: boolean;
  /** A mongos in front of a sharded cluster. */
  mongos: boolean;
}

/** The deployment behind a `hello` answer. */
export function deploymentOf(hello: { setName?: unknown; msg?: unknown }): Deployment {
  const mongos = hello.msg === 'isdbgrid';
  return { transactions: mongos || typeof hello.setName === 'string', mongos };
}

export interface MongoConnection {
  db: Db;
  deployment: Deployment;
  /** Null on a standalone server. */
  transactions: TransactionRunner | null;
  close(): Promise<void>;
}

/** Why start-up could not use MongoDB: the first step that failed, named for the operator. */
export class StartupFailure extends Error {
  override name = 'StartupFailure';
}

const AUTHENTICATION_FAILED = 18;

/** True when the server refused the credentials (the driver may wrap the server's answer). */
function isAuthenticationFailure(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && depth < 4; cause = (cause as { cause?: unknown }).cause, depth++) {
    const { code, name } = cause as { code?: unknown; name?: unknown };
    if (code === AUTHENTICATION_FAILED || name === 'MongoMissingCredentialsError') return true;
  }
  return false;
}

/** The start-up failure of a connection attempt: the hosts and the reason, never the credentials. */
function connectionFailure(url: string, error: unknown): StartupFailure {
  const hosts = describeMongoUrl(url);
  // No `cause`: driver errors may quote the connection string, credentials included.
  if (isAuthenticationFailure(error)) {
    return new StartupFailure(
      `cannot sign in to MongoDB at ${hosts}: ${reasonOf(error, url)} (check the user, password and authSource of MONGODB_URL)`,
    );
  }
  return new StartupFailure(`cannot reach MongoDB at ${hosts}: ${reasonOf(error, url)}`);
}

/** Connects, pings and reads the deployment; rejects with a StartupFailure saying what failed. */
export async function connectMongo(url: string, options: { dbName?: string; timeoutMs: number }): Promise<MongoConnection> {
  const { timeoutMs } = options;
  const writeConcern: WriteConcernSettings = { w: 'majority', wtimeoutMS: timeoutMs };
  let client: MongoClient | undefined;
  try {
    client = new MongoClient(url, {
      serverSelectionTimeoutMS: timeoutMs,
      connectTimeoutMS: timeoutMs,
      writeConcern,
      retryWrites: true,
      retryReads: true,
    });
    await client.connect();
    const name = options.dbName ?? dbNameOf(url) ?? DEFAULT_DB_NAME;
    const probe = client.db(name);
    await probe.command({ ping: 1 });
    const deployment = deploymentOf(await probe.command({ hello: 1 }));
    const db = client.db(name, { writeConcern, ...(deployment.transactions ? { readConcern: new ReadConcern('majority') } : {}) });
    const connected = client;
    const transactionOptions: TransactionOptions = { readConcern: { level: 'snapshot' }, writeConcern, readPreference: 'primary' };
    const transactions = deployment.transactions
      ? boundedTransactions(() => connected.startSession(), timeoutMs, transactionOptions)
      : null;
    return { db, deployment, transactions, close: () => connected.close() };
  } catch (error) {
    await client?.close().catch(() => undefined);
    throw connectionFailure(url, error);
  }
}
