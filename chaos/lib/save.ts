// What a run leaves in chaos/results/ (ignored by git): latest.json (latest-quick.json for a quick
// run) with the plan, the faults and the verdict; and when an invariant was violated, the whole
// history (every client's records and the store's final messages) with the servers' logs, to
// study the case and replay its seed.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJson } from '../../bench/lib/report.ts';
import type { Verdict } from '../check/index.ts';
import type { FinalState } from '../check/state.ts';
import type { FaultRecord } from './faults.ts';
import type { ClientHistory } from './history.ts';
import type { Plan } from './plan.ts';

export const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

export interface RunRecord {
  plan: Plan;
  /** When the load started (the clock of bench/lib/clock.ts, as every time in the history). */
  loadStartedAt: number;
  faults: FaultRecord[];
  verdict: Verdict;
  startedAt: string;
  finishedAt: string;
}

/**
 * Writes the summary, and on violations (or when asked) the history and logs; returns the
 * history's path, if written.
 */
export function saveRun(run: RunRecord, histories: ClientHistory[], state: FinalState, runDir: string, always: boolean): string | null {
  writeJson(path.join(resultsDir, run.plan.mode === 'quick' ? 'latest-quick.json' : 'latest.json'), run);
  if (run.verdict.violations === 0 && !always) return null;
  const stamp = `${run.startedAt.replace(/[:.]/g, '-')}-seed${run.plan.seed}`;
  const channels = Object.fromEntries([...state].map(([index, channel]) => [index, { ...channel, markers: Object.fromEntries(channel.markers) }]));
  const file = path.join(resultsDir, `${stamp}.json`);
  writeJson(file, { ...run, histories, finalState: channels });
  const logs = path.join(resultsDir, `${stamp}-logs`);
  mkdirSync(logs, { recursive: true });
  for (let i = 0; i < run.plan.servers; i++) {
    const log = path.join(runDir, `server-${i}.log`);
    if (existsSync(log)) copyFileSync(log, path.join(logs, `server-${i}.log`));
  }
  return file;
}
