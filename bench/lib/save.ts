// Writes a run's results: bench/results/<timestamp>.json, latest.json and fanout.svg.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { SessionResult } from '../scenarios/fanout.ts';
import type { System, SystemName, Workload } from '../systems/types.ts';
import { progress } from './log.ts';
import { benchDir, repoRoot } from './proc.ts';
import { writeJson, writeText, type Result } from './report.ts';
import { lineChart } from './svg.ts';

/** One colour per series: the peers, and ours per workload. */
const COLORS: Record<Exclude<SystemName, 'ours'> | Workload, string> = {
  best: '#d62728',
  messageAdded: '#ff7f0e',
  viewerEvents: '#9467bd',
  bare: '#2ca02c',
  socketio: '#1f77b4',
};

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return null; // not a git checkout
  }
}

export interface Run {
  /** partial: a full-size run narrowed by options (--scenarios, --sizes ...). */
  mode: 'quick' | 'partial' | 'full';
  plan: { rounds: number } & Record<string, unknown>;
  loadAverageAtStart: number[];
  systems: System[];
  results: Result[];
  sessions: SessionResult[];
}

export function saveResults(run: Run): void {
  const dir = path.join(benchDir, 'results');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const report = {
    finishedAt: new Date().toISOString(),
    mode: run.mode,
    plan: run.plan,
    machine: {
      cpus: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: process.platform,
      loadAverageAtStart: run.loadAverageAtStart,
      loadAverageAtEnd: os.loadavg(),
    },
    commit: gitCommit(),
    results: run.results,
    sessions: run.sessions,
  };
  // A quick or partial run keeps only its own latest files (not kept in git), so trying it never
  // replaces the full run's figures.
  const full = run.mode === 'full';
  const latest = full ? 'latest.json' : `latest-${run.mode}.json`;
  const chart = full ? 'fanout.svg' : `fanout-${run.mode}.svg`;
  const written = full ? [`${stamp}.json`, latest] : [latest];
  for (const name of written) writeJson(path.join(dir, name), report);
  // A run without fan-out (--sizes=none) leaves the last chart as it was.
  if (run.sessions.length === 0) return progress(`wrote ${written.map((name) => `bench/results/${name}`).join(' and ')}`);
  const svg = lineChart(
    `Fan-out: send → last subscriber received (median of ${run.plan.rounds} rounds)`,
    'subscribers (log scale)',
    'time to last delivery (ms, log scale)',
    run.systems.map((system) => ({
      label: system.workload === 'best' ? 'ours (best case)' : system.workload ? `${system.label} (distinct users)` : system.label,
      color: system.name === 'ours' ? COLORS[system.workload ?? 'best'] : COLORS[system.name],
      points: run.sessions
        .filter((s) => s.system === system.name && s.workload === system.workload)
        .map((s) => ({ x: s.subscribers, y: s.fanoutMs })),
    })),
  );
  writeText(path.join(dir, chart), svg);
  progress(`wrote ${[...written, chart].map((name) => `bench/results/${name}`).join(', ')}`);
}
