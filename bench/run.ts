// npm run bench [-- --quick] [--sizes=1000,10000|none] [--systems=ours,bare,socketio] [--no-api]
//   [--history-messages=1000000] [--rounds=11]
// Measures our GraphQL server against a bare `ws` broadcast server (the ceiling) and Socket.IO,
// prints one line per result with ratio = ours ÷ ceiling (how many times worse; 1.00 = as good
// as bare ws), and writes bench/results/<timestamp>.json with latest.json and fanout.svg (a quick
// run: only latest-quick.json and fanout-quick.svg).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { progress } from './lib/log.ts';
import { killAll } from './lib/proc.ts';
import { startRedis } from './lib/redis.ts';
import { compare, type Result } from './lib/report.ts';
import { saveResults } from './lib/save.ts';
import { runApiScenarios } from './scenarios/api.ts';
import { runSession, type SessionResult } from './scenarios/fanout.ts';
import { ours } from './systems/ours.ts';
import { bare, socketio } from './systems/peers.ts';
import type { System, SystemName } from './systems/types.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    systems: { type: 'string' },
    rounds: { type: 'string' },
    'no-api': { type: 'boolean', default: false },
    'history-messages': { type: 'string' },
  },
});

const quick = args.quick;
const plan = {
  // --sizes=none runs no fan-out session (only the API scenarios).
  sizes: args.sizes !== undefined ? args.sizes.split(',').filter((s) => /^\d+$/.test(s)).map(Number) : quick ? [1000] : [1000, 10_000, 50_000],
  // This VM's loopback is noisy (the same send loop varies 10×), so medians need several rounds.
  rounds: Number(args.rounds ?? (quick ? 9 : 11)),
  sustain: { subscribers: 1000, rate: 20, seconds: quick ? 3 : 5 },
  api: !quick && !args['no-api'],
  appOpenChannels: 1000,
  historyMessages: Number(args['history-messages'] ?? 1_000_000),
  historySmall: 1000,
  seedTimeLimitMs: 20 * 60_000,
  // Hard limit for the whole run: it always ends by itself.
  timeLimitMs: (quick ? 5 : 120) * 60_000,
};
const allSystems: System[] = [ours, bare, socketio];
const wanted = new Set((args.systems ?? 'ours,bare,socketio').split(','));
const systems = allSystems.filter((system) => wanted.has(system.name));
if (systems.length !== wanted.size) {
  console.error(`--systems takes a comma-separated list of ${allSystems.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const watchdog = setTimeout(() => {
  progress(`time limit of ${plan.timeLimitMs / 60_000} min reached: stopping, saving what was measured`);
  killAll();
  saveResults({ mode: quick ? 'quick' : 'full', plan, loadAverageAtStart: loadAtStart, systems, results, sessions });
  process.exit(2);
}, plan.timeLimitMs);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

const results: Result[] = [];
const sessions: SessionResult[] = [];
const emit = (result: Result) => {
  results.push(result);
  console.log(result.line);
};
const short = (error: unknown) => `failed: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 160)}`;

progress(`plan: fan-out ${plan.sizes.join(', ')} subscribers, ${plan.rounds} rounds; sustained ${plan.sustain.rate} msg/s × ${plan.sustain.seconds} s; api ${plan.api ? 'yes' : 'no'}`);
progress('ratio = ours ÷ bare ws (lower is better for ours; 1.00 = the ceiling)');
// Load generators and servers share the machine's cores: anything else running skews every number.
const loadAtStart = os.loadavg();
if (loadAtStart[0]! > os.cpus().length * 0.75) {
  progress(`warning: the machine is busy (load average ${loadAtStart[0]!.toFixed(1)} on ${os.cpus().length} cores); results will be slower and noisier`);
}
const redis = await startRedis();
try {
  for (const n of plan.sizes) {
    const bySystem: Partial<Record<SystemName, SessionResult>> = {};
    const missing: Partial<Record<SystemName, string>> = {};
    for (const system of systems) {
      const reason = system.unavailable();
      if (reason) {
        missing[system.name] = `not run (${reason})`;
        progress(`${system.label}: skipped, ${reason}`);
        continue;
      }
      try {
        const sustain = n === plan.sustain.subscribers ? plan.sustain : undefined;
        const session = await runSession(system, redis, { subscribers: n, rounds: plan.rounds, roundTimeoutMs: 10_000 + n, sustain });
        bySystem[system.name] = session;
        sessions.push(session);
      } catch (error) {
        missing[system.name] = short(error);
        progress(`${system.label} ${n}: ${short(error)}`);
      }
    }
    const pick = (f: (s: SessionResult) => number | undefined) => {
      const values: Partial<Record<SystemName, number>> = {};
      const why = { ...missing };
      for (const [name, session] of Object.entries(bySystem) as [SystemName, SessionResult][]) {
        const value = f(session);
        if (value !== undefined && Number.isFinite(value)) values[name] = value;
        else why[name] ??= 'no complete measurement';
      }
      return [values, why] as const;
    };
    emit(compare(`fan-out ${n} subscribers`, 'ms', 'lower', ...pick((s) => s.fanoutMs)));
    emit(compare(`idle memory ${n} connections`, 'KiB/conn', 'lower', ...pick((s) => s.memory.perConnectionKiB)));
    emit(compare(`connect ${n} subscribers, subscribed/s`, '/s', 'higher', ...pick((s) => s.connectsPerSecond)));
    if (n === plan.sustain.subscribers) {
      const what = `sustained ${plan.sustain.rate} msg/s to ${n} subscribers`;
      emit(compare(`${what}, p50 latency`, 'ms', 'lower', ...pick((s) => s.sustain?.p50)));
      emit(compare(`${what}, p99 latency`, 'ms', 'lower', ...pick((s) => s.sustain?.p99)));
      emit(compare(`${what}, deliveries/s`, '/s', 'higher', ...pick((s) => s.sustain?.deliveriesPerSecond)));
    }
  }

  if (plan.api && wanted.has('ours')) {
    const reason = ours.unavailable();
    if (reason) progress(`app-open and history: skipped, ${reason}`);
    else await runApiScenarios(redis, plan, emit);
  }
} finally {
  await redis.close();
}

saveResults({ mode: quick ? 'quick' : 'full', plan, loadAverageAtStart: loadAtStart, systems, results, sessions });
clearTimeout(watchdog);
process.exit(0);
