// npm run bench [-- --quick] [--scenarios=best,messageAdded,viewerEvents,receipts,sends,app-open,history]
//   [--sizes=1000,10000|none] [--systems=ours,bare,socketio] [--no-api] [--rounds=11]
//   [--receipt-members=100,10000,50000] [--send-seconds=10] [--history-messages=1000000]
// npm run bench -- --redis=cluster [--sizes=1000] [--rounds=9]
//   the best-case fan-out on a local Redis Cluster against the same run on one Redis (ratio =
//   cluster ÷ single); nothing else runs and no result file is written.
// Measures our GraphQL server against a bare `ws` broadcast server (the ceiling) and Socket.IO,
// prints one line per result with ratio = ours ÷ ceiling (how many times worse; 1.00 = as good
// as bare ws; receipts and sends name their own reference), and writes
// bench/results/<timestamp>.json with latest.json and fanout.svg (a quick run: only
// latest-quick.json and fanout-quick.svg; a run narrowed by options: latest-partial.json ...).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { progress } from './lib/log.ts';
import { killAll } from './lib/proc.ts';
import { startRedis } from './lib/redis.ts';
import type { Result } from './lib/report.ts';
import { saveResults } from './lib/save.ts';
import { runApiScenarios } from './scenarios/api.ts';
import type { SessionResult } from './scenarios/fanout.ts';
import { runFanout } from './scenarios/fanout-sizes.ts';
import { runClusterComparison } from './scenarios/redis-cluster.ts';
import { runReceipts } from './scenarios/receipts.ts';
import { runSends } from './scenarios/sends.ts';
import { ours, oursMessageAdded, oursViewerEvents } from './systems/ours.ts';
import { bare, socketio } from './systems/peers.ts';
import type { System } from './systems/types.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenarios: { type: 'string' },
    sizes: { type: 'string' },
    systems: { type: 'string' },
    rounds: { type: 'string' },
    'no-api': { type: 'boolean', default: false },
    'receipt-members': { type: 'string' },
    'send-seconds': { type: 'string' },
    'history-messages': { type: 'string' },
    redis: { type: 'string', default: 'single' },
  },
});
if (!['single', 'cluster'].includes(args.redis!)) {
  console.error(`--redis takes single or cluster (not ${args.redis})`);
  process.exit(2);
}

const quick = args.quick;
// Any option that narrows a full run makes it partial: its figures must not replace the full run's.
const narrowed = ['scenarios', 'sizes', 'systems', 'rounds', 'no-api', 'receipt-members', 'send-seconds', 'history-messages'].some(
  (name) => args[name as keyof typeof args] !== undefined && args[name as keyof typeof args] !== false,
);
const mode = quick ? 'quick' : narrowed ? 'partial' : 'full';
const SCENARIOS = ['best', 'messageAdded', 'viewerEvents', 'receipts', 'sends', 'app-open', 'history'] as const;
type Scenario = (typeof SCENARIOS)[number];
const numbers = (list: string) => list.split(',').filter((s) => /^\d+$/.test(s)).map(Number);

const requested = (args.scenarios ?? (quick ? 'best,messageAdded,viewerEvents,receipts,sends' : SCENARIOS.join(','))).split(',');
const unknown = requested.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
if (unknown.length > 0) {
  console.error(`--scenarios takes a comma-separated list of ${SCENARIOS.join(', ')} (not ${unknown.join(', ')})`);
  process.exit(2);
}
const scenarios = new Set(requested as Scenario[]);
if (args['no-api']) for (const name of ['app-open', 'history'] as const) scenarios.delete(name);

const plan = {
  scenarios: SCENARIOS.filter((name) => scenarios.has(name)),
  // --sizes=none runs no fan-out session.
  sizes: args.sizes !== undefined ? numbers(args.sizes) : quick ? [1000] : [1000, 10_000, 50_000],
  // This VM's loopback is noisy (the same send loop varies 10×), so medians need several rounds.
  rounds: Number(args.rounds ?? (quick ? 9 : 11)),
  sustain: { subscribers: 1000, rate: 20, seconds: quick ? 3 : 5 },
  receipts: {
    members: args['receipt-members'] !== undefined ? numbers(args['receipt-members']) : quick ? [100, 1000] : [100, 10_000, 50_000],
    messages: 200,
    budgetMs: quick ? 3000 : 30_000,
  },
  sends: { senders: 32, channels: 100, warmupSeconds: 1, seconds: Number(args['send-seconds'] ?? (quick ? 3 : 10)) },
  appOpenChannels: 1000,
  historyMessages: Number(args['history-messages'] ?? 1_000_000),
  historySmall: 1000,
  seedTimeLimitMs: 20 * 60_000,
  // Hard limit for the whole run: it always ends by itself.
  timeLimitMs: (quick ? 5 : 180) * 60_000,
};
const peers: System[] = [bare, socketio];
const oursByScenario = { best: ours, messageAdded: oursMessageAdded, viewerEvents: oursViewerEvents } as const;
const wanted = new Set((args.systems ?? 'ours,bare,socketio').split(','));
if ([...wanted].some((name) => !['ours', 'bare', 'socketio'].includes(name))) {
  console.error('--systems takes a comma-separated list of ours, bare, socketio');
  process.exit(2);
}
const fanoutOurs = wanted.has('ours') ? (['best', 'messageAdded', 'viewerEvents'] as const).filter((name) => scenarios.has(name)).map((name) => oursByScenario[name]) : [];
const fanoutSelected = scenarios.has('best') || scenarios.has('messageAdded') || scenarios.has('viewerEvents');
const fanoutPeers = fanoutSelected ? peers.filter((system) => wanted.has(system.name)) : [];
/** Every system that ran a fan-out session, for the chart. */
const systems = [...fanoutOurs, ...fanoutPeers];

const watchdog = setTimeout(() => {
  progress(`time limit of ${plan.timeLimitMs / 60_000} min reached: stopping, saving what was measured`);
  killAll();
  saveResults({ mode, plan, loadAverageAtStart: loadAtStart, systems, results, sessions });
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

progress(`plan: ${plan.scenarios.join(', ')}; fan-out ${plan.sizes.join(', ')} subscribers, ${plan.rounds} rounds; receipts at ${plan.receipts.members.join(', ')} members; sends ${plan.sends.seconds} s`);
progress('ratio = ours ÷ bare ws (lower is better for ours; 1.00 = the ceiling)');
// Load generators and servers share the machine's cores: anything else running skews every number.
const loadAtStart = os.loadavg();
if (loadAtStart[0]! > os.cpus().length * 0.75) {
  progress(`warning: the machine is busy (load average ${loadAtStart[0]!.toFixed(1)} on ${os.cpus().length} cores); results will be slower and noisier`);
}
const redis = await startRedis();
if (args.redis === 'cluster') {
  try {
    const sizes = args.sizes !== undefined ? numbers(args.sizes) : [1000];
    progress(`Redis Cluster against single Redis: fan-out ${sizes.join(', ')} subscribers, ${plan.rounds} rounds; ratio = cluster ÷ single (1.00 = no cost)`);
    await runClusterComparison({ sizes, rounds: plan.rounds, sustain: { rate: plan.sustain.rate, seconds: 3 } }, redis, emit);
  } finally {
    await redis.close();
    killAll();
  }
  process.exit(0);
}
try {
  if (systems.length > 0) await runFanout(plan, fanoutPeers, fanoutOurs, redis, emit, sessions);

  const oursOnly: [Scenario, () => Promise<void>][] = [
    ['receipts', () => runReceipts(redis, plan.receipts, emit)],
    ['sends', () => runSends(redis, plan.sends, emit)],
  ];
  for (const [name, run] of oursOnly) {
    if (!scenarios.has(name) || !wanted.has('ours')) continue;
    const reason = ours.unavailable();
    if (reason) {
      progress(`${name}: skipped, ${reason}`);
      continue;
    }
    try {
      await run();
    } catch (error) {
      progress(`${name}: ${short(error)}`);
    }
  }

  if ((scenarios.has('app-open') || scenarios.has('history')) && wanted.has('ours')) {
    const reason = ours.unavailable();
    if (reason) progress(`app-open and history: skipped, ${reason}`);
    else await runApiScenarios(redis, { ...plan, appOpen: scenarios.has('app-open'), history: scenarios.has('history') }, emit);
  }
} finally {
  await redis.close();
}

saveResults({ mode, plan, loadAverageAtStart: loadAtStart, systems, results, sessions });
clearTimeout(watchdog);
process.exit(0);
