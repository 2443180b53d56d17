// Fan-out at each size: one session per system (the peers, and ours once per workload), then the
// result lines. The peers' sessions are the reference of every workload of ours at that size.
import { progress } from '../lib/log.ts';
import { compare, type Result } from '../lib/report.ts';
import type { System, SystemName, Workload } from '../systems/types.ts';
import { runSession, type SessionResult } from './fanout.ts';

export interface FanoutPlan {
  sizes: number[];
  rounds: number;
  sustain: { subscribers: number; rate: number; seconds: number };
}

type Sessions = Partial<Record<SystemName, SessionResult>>;
type Missing = Partial<Record<SystemName, string>>;

const short = (error: unknown) => `failed: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 160)}`;

/** Values of one metric per system (ours from one workload's session), with why a system has none. */
function pick(peers: Sessions, ours: SessionResult | undefined, missing: Missing, f: (s: SessionResult) => number | undefined) {
  const values: Partial<Record<SystemName, number>> = {};
  const why = { ...missing };
  const sessions: Sessions = { ...peers, ...(ours ? { ours } : {}) };
  for (const [name, session] of Object.entries(sessions) as [SystemName, SessionResult][]) {
    const value = f(session);
    if (value !== undefined && Number.isFinite(value)) values[name] = value;
    else why[name] ??= 'no complete measurement';
  }
  return [values, why] as const;
}

/** Round timeout: a viewerEvents round at 50,000 distinct users takes far longer than one broadcast. */
const roundTimeoutMs = (system: System, n: number) => 10_000 + n * (system.workload === 'best' || !system.workload ? 1 : 3);

function linesFor(n: number, workload: Workload, peers: Sessions, ours: SessionResult | undefined, missing: Missing, plan: FanoutPlan): Result[] {
  const at = (f: (s: SessionResult) => number | undefined) => pick(peers, ours, missing, f);
  if (workload === 'best') {
    const users = Math.min(100, n);
    const lines = [
      compare(`fan-out ${n} subscribers, best case (${users} users, one shared messageAdded document)`, 'ms', 'lower', ...at((s) => s.fanoutMs)),
      compare(`idle memory ${n} connections (best case)`, 'KiB/conn', 'lower', ...at((s) => s.memory.perConnectionKiB)),
      compare(`connect ${n} subscribers (best case), subscribed/s`, '/s', 'higher', ...at((s) => s.connectsPerSecond)),
    ];
    if (n === plan.sustain.subscribers) {
      const what = `sustained ${plan.sustain.rate} msg/s to ${n} subscribers (best case)`;
      lines.push(compare(`${what}, p50 latency`, 'ms', 'lower', ...at((s) => s.sustain?.p50)));
      lines.push(compare(`${what}, p99 latency`, 'ms', 'lower', ...at((s) => s.sustain?.p99)));
      lines.push(compare(`${what}, deliveries/s`, '/s', 'higher', ...at((s) => s.sustain?.deliveriesPerSecond)));
    }
    return lines;
  }
  const badges = ours?.badges;
  const note =
    workload === 'viewerEvents' && badges
      ? `badges: ${badges.mismatches} mismatches of ${badges.subscribers} subscribers (unreadCount ${badges.expectedUnread} for all, mentionCount > 0 for ${badges.mentionedUsers})${badges.sample ? `, e.g. ${badges.sample}` : ''}`
      : undefined;
  const fanout = compare(`fan-out ${n} distinct users, ${workload}`, 'ms', 'lower', ...at((s) => s.fanoutMs), note);
  if (workload === 'viewerEvents' && badges) fanout.details = { badgeMismatches: badges.mismatches, badgeSubscribers: badges.subscribers, badgeFramesWrong: badges.wrong };
  const lines = [
    fanout,
    compare(`server CPU per delivery, ${n} distinct users, ${workload}`, 'µs', 'lower', ...at((s) => s.cpu.perDeliveryUs)),
  ];
  if (workload === 'viewerEvents') {
    const [values, why] = at((s) => s.connectsPerSecond);
    const share = values.ours !== undefined && values.bare !== undefined ? `ours at ${(values.ours / values.bare).toFixed(2)}× the bare rate` : undefined;
    lines.push(compare(`connect ${n} distinct users to viewerEvents, subscribed/s`, '/s', 'higher', values, why, share));
  }
  return lines;
}

/** Every size: the sessions of `peers` and of each workload of ours, then their lines. */
export async function runFanout(
  plan: FanoutPlan,
  peers: System[],
  ours: System[],
  redis: { url: string; flush(): Promise<void> },
  emit: (result: Result) => void,
  sessions: SessionResult[],
): Promise<void> {
  // Without ours (--systems=bare,socketio) the best-case lines still show the peers.
  const workloads: Workload[] = ours.length > 0 ? ours.map((system) => system.workload!) : ['best'];
  for (const n of plan.sizes) {
    const peerSessions: Sessions = {};
    const missing: Missing = {};
    const oursSessions: Partial<Record<Workload, SessionResult>> = {};
    const oursMissing: Partial<Record<Workload, string>> = {};
    for (const system of [...peers, ...ours]) {
      const reason = system.unavailable();
      const key = system.workload;
      const fail = (why: string) => {
        if (key) oursMissing[key] = why;
        else missing[system.name] = why;
      };
      if (reason) {
        fail(`not run (${reason})`);
        progress(`${system.label}: skipped, ${reason}`);
        continue;
      }
      try {
        // Sustained load is a best-case figure, and the peers' sustained figures are its reference.
        const sustained = key ? key === 'best' : workloads.includes('best');
        const sustain = n === plan.sustain.subscribers && sustained ? plan.sustain : undefined;
        const session = await runSession(system, redis, { subscribers: n, rounds: plan.rounds, roundTimeoutMs: roundTimeoutMs(system, n), sustain });
        if (key) oursSessions[key] = session;
        else peerSessions[system.name] = session;
        sessions.push(session);
      } catch (error) {
        fail(short(error));
        progress(`${system.label} ${n}: ${short(error)}`);
      }
    }
    for (const workload of workloads) {
      const why = oursMissing[workload];
      for (const line of linesFor(n, workload, peerSessions, oursSessions[workload], why ? { ...missing, ours: why } : missing, plan)) emit(line);
    }
  }
}
