// Transactions with a deadline. The driver's withTransaction retries a unit for up to 120 s, and the
// driver's own timeoutMS (which would bound it) has no effect in driver 7, so the store runs its own
// loop of the driver's documented convenient-transaction rules (retry the whole unit on a
// TransientTransactionError, retry the commit on an UnknownTransactionCommitResult;
// https://www.mongodb.com/docs/manual/core/transactions-in-applications/) until a deadline, then
// gives up with StoreError 'unavailable'. A unit that fails before its commit is aborted: nothing
// of it is stored. Each commit waits for the majority at most maxCommitTimeMS (the server's bound).
import type { ClientSession, TransactionOptions } from 'mongodb';
import { StoreError } from '../store.ts';
import type { Session, TransactionRunner } from './database.ts';

/** The part of the driver's ClientSession a transaction uses. */
export type TransactionSession = Pick<
  ClientSession,
  'startTransaction' | 'commitTransaction' | 'abortTransaction' | 'inTransaction' | 'endSession'
>;

const hasLabel = (error: unknown, label: string) =>
  typeof (error as { hasErrorLabel?: unknown })?.hasErrorLabel === 'function' && (error as { hasErrorLabel(l: string): boolean }).hasErrorLabel(label);

/** MaxTimeMSExpired: the server's own bound on the commit ran out; retrying the commit would wait again. */
const MAX_TIME_MS_EXPIRED = 50;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A short random pause before attempt n (1, 2, 4 ... up to 64 ms), so units that conflicted do not meet again at once. */
const backoff = (attempt: number) => Math.random() * Math.min(2 ** attempt, 64);

/** Runs each unit in a transaction of a fresh session, retrying it as the driver would, for at most timeoutMs. */
export function boundedTransactions(
  startSession: () => TransactionSession,
  timeoutMs: number,
  options: TransactionOptions,
): TransactionRunner {
  const transactionOptions: TransactionOptions = { ...options, maxCommitTimeMS: timeoutMs };
  return async <R>(fn: (session: Session) => Promise<R>): Promise<R> => {
    const deadline = Date.now() + timeoutMs;
    const session = startSession();
    const gaveUp = (error: unknown, committing: boolean) =>
      new StoreError(
        'unavailable',
        `MongoDB did not complete a transaction within ${timeoutMs} ms${committing ? ' (whether its commit applied is unknown)' : ''}: ${(error as Error).message}`,
      );
    try {
      for (let attempt = 0; ; attempt++) {
        session.startTransaction(transactionOptions);
        let result: R;
        try {
          result = await fn(session as ClientSession);
        } catch (error) {
          if (session.inTransaction()) await session.abortTransaction().catch(() => undefined);
          if (!hasLabel(error, 'TransientTransactionError')) throw error;
          const wait = backoff(attempt);
          if (Date.now() + wait >= deadline) throw gaveUp(error, false);
          await pause(wait);
          continue;
        }
        const committed = await commit(session, deadline);
        if (committed === 'committed') return result;
        if (committed.retry !== 'unit') throw gaveUp(committed.error, committed.retry === 'unknown');
        const wait = backoff(attempt);
        if (Date.now() + wait >= deadline) throw gaveUp(committed.error, false);
        await pause(wait);
      }
    } finally {
      await session.endSession().catch(() => undefined);
    }
  };
}

type CommitOutcome = 'committed' | { retry: 'unit' | 'unknown'; error: unknown };

/** Commits, retrying a commit of unknown outcome (it is idempotent) until the deadline. */
async function commit(session: TransactionSession, deadline: number): Promise<CommitOutcome> {
  for (;;) {
    try {
      await session.commitTransaction();
      return 'committed';
    } catch (error) {
      if (hasLabel(error, 'TransientTransactionError')) return { retry: 'unit', error };
      if (!hasLabel(error, 'UnknownTransactionCommitResult')) throw error;
      const code = (error as { code?: unknown }).code;
      if (code === MAX_TIME_MS_EXPIRED || Date.now() >= deadline) return { retry: 'unknown', error };
      await pause(backoff(4));
    }
  }
}
