// Parent side of seeding: runs one plan in a seeding process (process.ts) on a SQLite file and
// prints its progress lines.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { progress } from '../lib/log.ts';
import { stop, track } from '../lib/proc.ts';
import type { SeedPlan, SeedResults } from './plans.ts';
import type { FromSeeder, ToSeeder } from './process.ts';

const seederScript = fileURLToPath(new URL('./process.ts', import.meta.url));

/** Carries out `plan` on the SQLite file `file`; rejects when the seeder fails or takes longer than timeoutMs. */
export function seed<P extends SeedPlan>(file: string, plan: P, timeoutMs = 15 * 60_000): Promise<SeedResults[P['kind']]> {
  const child = track(fork(seederScript, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, result?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        void stop(child, 1000);
        reject(error);
      } else resolve(result as SeedResults[P['kind']]);
    };
    const timer = setTimeout(() => finish(new Error(`seeding (${plan.kind}) took longer than ${timeoutMs / 1000} s`)), timeoutMs);
    child.on('message', (message: FromSeeder) => {
      if (message.type === 'progress') progress(`seeder: ${message.message}`);
      else if (message.type === 'done') finish(undefined, message.result);
      else finish(new Error(`seeding (${plan.kind}) failed: ${message.error}`));
    });
    child.once('exit', (code) => finish(new Error(`the seeding process exited (${code}) before it was done`)));
    child.send({ type: 'seed', file, plan } satisfies ToSeeder);
  });
}
