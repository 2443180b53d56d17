// The store's transactions against a server that keeps failing them: retried as the driver's
// convenient API would, but never past MONGODB_TIMEOUT_MS (the driver's withTransaction goes on for
// 120 s), then given up as StoreError 'unavailable'. The session is scripted, standing in for the
// driver's ClientSession: it fails each step as a server losing its majority or its primary would.
import { MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { type TransactionSession, boundedTransactions } from '../../src/store/mongo/transactions.ts';
import { StoreError } from '../../src/store/store.ts';

const writeConflict = () =>
  new MongoServerError({ message: 'WriteConflict error: this operation conflicted with another operation', code: 112, errorLabels: ['TransientTransactionError'] });
const commitUnknown = () =>
  new MongoServerError({ message: 'waiting for replication timed out', code: 64, errorLabels: ['UnknownTransactionCommitResult'] });

/** A session whose commits answer from the script, one entry per commit (the last repeats); counts what it was asked. */
function scriptedSession(commits: (() => Error | null)[]) {
  const calls = { started: 0, committed: 0, aborted: 0, ended: 0 };
  let open = false;
  const session: TransactionSession = {
    startTransaction: () => void ((open = true), calls.started++),
    inTransaction: () => open,
    abortTransaction: async () => void ((open = false), calls.aborted++),
    commitTransaction: async () => {
      const error = (commits[Math.min(calls.committed, commits.length - 1)] ?? (() => null))();
      calls.committed++;
      if (error) throw error;
      open = false;
    },
    endSession: async () => void calls.ended++,
  };
  return { session, calls };
}

describe('bounded transactions', () => {
  it('retries a unit that conflicts, and returns what its last run returned', async () => {
    const { session, calls } = scriptedSession([() => null]);
    let runs = 0;
    const run = boundedTransactions(() => session, 2000, {});
    const result = await run(async () => {
      runs += 1;
      if (runs < 3) throw writeConflict();
      return 'stored';
    });
    expect(result).toBe('stored');
    expect({ runs, ...calls }).toEqual({ runs: 3, started: 3, committed: 1, aborted: 2, ended: 1 });
  });

  it('gives a unit that keeps conflicting up after the timeout, as unavailable, having aborted every run', async () => {
    const { session, calls } = scriptedSession([() => null]);
    const run = boundedTransactions(() => session, 300, {});
    const started = Date.now();
    const error = await run(async () => {
      throw writeConflict();
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringMatching(/^MongoDB did not complete a transaction within 300 ms: WriteConflict/) });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(calls.committed).toBe(0);
    expect(calls.aborted).toBe(calls.started);
    expect(calls.ended).toBe(1);
  });

  it('retries a commit of unknown outcome until the timeout, then says its outcome is unknown', async () => {
    const { session, calls } = scriptedSession([commitUnknown]);
    const run = boundedTransactions(() => session, 300, {});
    const error = await run(async () => 'stored').catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('(whether its commit applied is unknown)') });
    expect(calls.started).toBe(1);
    expect(calls.committed).toBeGreaterThan(1);
  });

  it('passes an error of the unit itself through at once, after aborting it', async () => {
    const { session, calls } = scriptedSession([() => null]);
    const run = boundedTransactions(() => session, 2000, {});
    const error = await run(async () => {
      throw new StoreError('duplicate', 'taken', 'channelName');
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'duplicate', key: 'channelName' });
    expect(calls).toEqual({ started: 1, committed: 0, aborted: 1, ended: 1 });
  });
});
