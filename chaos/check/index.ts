// The checker: every client's history and the store's final state in, each invariant with its
// count of violations out, and the table the run prints.
import type { ClientHistory } from '../lib/history.ts';
import type { FaultRecord } from '../lib/faults.ts';
import { FAULT_KINDS, type FaultKind, type Plan } from '../lib/plan.ts';
import type { World } from '../lib/world.ts';
import { type Latency, measureLatency } from './latency.ts';
import { checkPresence } from './presence.ts';
import { checkReadState } from './read-state.ts';
import { checkSends } from './sends.ts';
import type { FinalState } from './state.ts';
import { checkDevices, checkListeners } from './streams.ts';
import type { InvariantResult } from './tally.ts';

export interface Verdict {
  operations: Record<string, number>;
  faults: Record<FaultKind, number>;
  invariants: InvariantResult[];
  latency: Latency;
  violations: number;
}

/** The latency goal: p99 send → delivery outside faults. */
export const LATENCY_GOAL_MS = 500;

export function check(plan: Plan, world: World, histories: ClientHistory[], state: FinalState, faults: FaultRecord[], loadStartedAt: number): Verdict {
  const sends = histories.flatMap((h) => h.sends);
  const listeners = histories.flatMap((h) => h.listeners);
  const devices = histories.flatMap((h) => h.devices);
  const invariants = [
    ...checkSends(sends, state, world),
    checkListeners(listeners, state),
    ...checkDevices(devices, state),
    ...checkReadState(devices, state, world),
    checkPresence(
      histories.flatMap((h) => h.subjects),
      histories.flatMap((h) => h.watchers),
      plan.timings,
      faults,
    ),
  ];
  const sessions = [...listeners, ...devices, ...histories.flatMap((h) => h.watchers)].map((a) => a.sessions);
  const operations = {
    sends: sends.length,
    acknowledged: sends.filter((s) => s.ackAt !== null).length,
    'never acknowledged (app closed mid-send)': sends.filter((s) => s.ackAt === null && s.refused === null).length,
    'sends retried': sends.filter((s) => s.attempts > 1).length,
    'RATE_LIMITED answers': sends.reduce((n, s) => n + s.failures.filter((f) => f.includes('RATE_LIMITED')).length, 0),
    'sends refused': sends.filter((s) => s.refused !== null).length,
    'messageAdded deliveries': listeners.reduce((n, l) => n + l.deliveries.length, 0),
    'viewerEvents events': devices.reduce((n, d) => n + d.events.length, 0),
    'gap fills after reconnects': devices.reduce((n, d) => n + d.fills.filter((f) => f.seqs.length > 0).length, 0),
    'read marks': devices.reduce((n, d) => n + d.marks.length, 0),
    'presence observations': histories.reduce((n, h) => n + h.watchers.reduce((m, w) => m + w.observations.length, 0), 0),
    reconnects: sessions.reduce((n, s) => n + Math.max(0, s.length - 1), 0),
  };
  const counted = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  for (const fault of faults) if (fault.startedAt !== null) counted[fault.kind]++;
  return {
    operations,
    faults: counted,
    invariants,
    latency: measureLatency(histories, state, faults, plan.timings.faultSettleMs, loadStartedAt + plan.timings.warmUpMs),
    violations: invariants.reduce((n, i) => n + i.violations, 0),
  };
}

const FAULT_NAMES: Record<FaultKind, string> = {
  kill: 'kill -9 of a server, then restart',
  pause: 'SIGSTOP / SIGCONT of a server (1–10 s)',
  'redis-restart': 'Redis killed and restarted (data lost)',
  cut: 'client sockets reset (TCP proxy)',
  slow: 'slow consumer stops reading (2–10 s)',
};

const n = (value: number) => value.toLocaleString('en-US');
const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : 'n/a');

/** The run's table, in Markdown (it goes into the README as it is). */
export function table(plan: Plan, verdict: Verdict): string {
  const lines: string[] = [];
  lines.push(`seed ${plan.seed}, ${plan.mode} run: ${plan.servers} server processes, ${Math.round(plan.loadMs / 1000)} s of load`);
  lines.push('', '| operations | count |', '|---|---:|');
  for (const [what, count] of Object.entries(verdict.operations)) lines.push(`| ${what} | ${n(count)} |`);
  lines.push('', '| faults | count |', '|---|---:|');
  for (const kind of FAULT_KINDS) lines.push(`| ${FAULT_NAMES[kind]} | ${verdict.faults[kind]} |`);
  lines.push('', '| invariant | checked | violations |', '|---|---:|---:|');
  for (const invariant of verdict.invariants) lines.push(`| ${invariant.name} | ${n(invariant.checked)} | ${n(invariant.violations)} |`);
  const { latency } = verdict;
  const met = latency.p99 <= LATENCY_GOAL_MS ? 'met' : 'missed';
  lines.push('', `| send → delivery, outside fault windows and the first ${plan.timings.warmUpMs / 1000} s | value |`, '|---|---:|');
  lines.push(`| deliveries measured (left out: ${n(latency.excluded)}) | ${n(latency.deliveries)} |`);
  lines.push(`| p50 | ${ms(latency.p50)} |`, `| p99 (goal ≤ ${LATENCY_GOAL_MS} ms: ${met}) | ${ms(latency.p99)} |`, `| max | ${ms(latency.max)} |`);
  return lines.join('\n');
}
