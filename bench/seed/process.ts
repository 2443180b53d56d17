// The seeding process: opens the deployment's SQLite file through the Store port, carries out one
// plan (plans.ts), reports progress and the result over IPC, closes the file and exits. A process
// of its own, so the parent stays responsive and no server holds the file while it is written.
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { SeedPlan } from './plans.ts';
import { seedOrganization } from './plans.ts';
import { seedReceipts } from './receipts.ts';
import { storeCeiling } from './sends.ts';

export type ToSeeder = { type: 'seed'; file: string; plan: SeedPlan };
export type FromSeeder = { type: 'progress'; message: string } | { type: 'done'; result: unknown } | { type: 'failed'; error: string };

const send = (message: FromSeeder) => new Promise<void>((resolve) => process.send!(message, undefined, {}, () => resolve()));

function run(store: SqliteStore, plan: SeedPlan, report: (message: string) => void): Promise<unknown> {
  switch (plan.kind) {
    case 'organization':
      return seedOrganization(store, plan, report);
    case 'receipts':
      return seedReceipts(store, plan, report);
    case 'storeCeiling':
      return storeCeiling(store, plan, report);
  }
}

process.once('message', async ({ file, plan }: ToSeeder) => {
  const store = new SqliteStore(file);
  let outcome: FromSeeder;
  try {
    outcome = { type: 'done', result: await run(store, plan, (message) => void send({ type: 'progress', message })) };
  } catch (error) {
    outcome = { type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  await store.close();
  await send(outcome);
  process.exit(0);
});

// Never outlive the parent.
process.on('disconnect', () => process.exit(0));
