// npm run chaos [-- --quick] [--seed=N] [--servers=3] [--minutes=M] [--history]
// A randomized run with faults injected while every operation is recorded: N server processes on
// one SQLite file and a Redis of the run's own, clients in separate processes going through TCP
// proxies, faults on a schedule drawn from the seed (printed; --seed replays it), then a checker
// that compares every client's history with the store. Prints a table; exits 1 when an invariant
// was violated (the history then goes to chaos/results/), 2 when the run itself failed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { now, sleep } from '../bench/lib/clock.ts';
import { killAll } from '../bench/lib/proc.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { check, table } from './check/index.ts';
import { readFinalState } from './check/state.ts';
import { Cluster, startSingleRedis } from './lib/cluster.ts';
import { runFaults } from './lib/faults.ts';
import { startFleet } from './lib/fleet.ts';
import { makePlan } from './lib/plan.ts';
import { Random, newSeed } from './lib/random.ts';
import { saveRun } from './lib/save.ts';
import { drawWorld, seedStore } from './lib/world.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seed: { type: 'string' },
    servers: { type: 'string', default: '3' },
    minutes: { type: 'string' },
    'redis-cluster': { type: 'boolean', default: false },
    /** Writes the whole history even when nothing was violated. */
    history: { type: 'boolean', default: false },
  },
});

const started = Date.now();
const progress = (line: string) => process.stderr.write(`[chaos ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);

if (args['redis-cluster']) {
  progress('--redis-cluster: the server has no Redis Cluster mode yet, so neither has this run (see chaos/README.md)');
  process.exit(2);
}
const seed = args.seed === undefined ? newSeed() : Number(args.seed);
const servers = Number(args.servers);
if (!Number.isInteger(seed) || seed <= 0 || !Number.isInteger(servers) || servers < 1 || servers > 8) {
  progress('--seed takes a positive integer, --servers 1 to 8');
  process.exit(2);
}
const plan = makePlan({ seed, quick: args.quick, servers, minutes: args.minutes === undefined ? undefined : Number(args.minutes) });
const replay = `npm run chaos -- ${args.quick ? '--quick ' : ''}--seed=${seed}${servers !== 3 ? ` --servers=${servers}` : ''}${args.minutes ? ` --minutes=${args.minutes}` : ''}`;
progress(`seed ${seed} (replay: ${replay})`);
const kinds = plan.faults.reduce<Record<string, number>>((counts, f) => ({ ...counts, [f.kind]: (counts[f.kind] ?? 0) + 1 }), {});
progress(`plan: ${servers} servers, ${plan.loadMs / 1000} s of load, ${plan.faults.length} faults (${Object.entries(kinds).map(([k, c]) => `${k} ×${c}`).join(', ')})`);

// The run always ends by itself, and never leaves a process behind.
const watchdog = setTimeout(() => {
  progress('time limit reached: stopping');
  killAll();
  process.exit(2);
}, plan.loadMs + 15 * 60_000);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

const dir = mkdtempSync(path.join(tmpdir(), 'chat-chaos-'));
const sqlitePath = path.join(dir, 'chat.db');
const secret = randomBytes(24).toString('hex');
const rng = new Random(seed);
const startedAt = new Date().toISOString();

async function lastSeqs(world: Awaited<ReturnType<typeof drawWorld>>): Promise<Record<number, number>> {
  const store = new SqliteStore(sqlitePath);
  try {
    const channels = await store.findChannelsByIds(world.channels.map((c) => c.id));
    return Object.fromEntries(world.channels.map((c) => [c.index, channels.find((s) => s.id === c.id)?.lastSeq ?? 0]));
  } finally {
    await store.close();
  }
}

async function main(): Promise<number> {
  const world = await drawWorld(plan, rng.fork('world'), secret);
  const seeding = new SqliteStore(sqlitePath);
  await seedStore(seeding, world);
  await seeding.close();
  progress(`seeded ${Object.keys(world.users).length} users and ${world.channels.length} channels through the store`);

  const redis = await startSingleRedis();
  const cluster = await Cluster.start(plan, dir, sqlitePath, secret, redis);
  progress(`${servers} servers up (each behind a TCP proxy), Redis on ${redis.env.REDIS_URL}`);
  const clients = startFleet(dir, { seed, httpUrls: cluster.httpUrls, wsUrls: cluster.wsUrls, world, timings: plan.timings });
  const all = Object.values(clients);
  await Promise.all(all.map((client) => client.next('ready', 180_000)));
  progress('clients connected; load starts');

  const t0 = now();
  for (const client of all) client.send({ type: 'go' });
  const ticker = setInterval(() => {
    const c = (key: string) => all.reduce((sum, client) => sum + (client.counters[key] ?? 0), 0);
    const states = cluster.servers.map((s) => `${s.label} ${s.state}`).join(', ');
    progress(
      `${c('acked')}/${c('sends')} sends acknowledged (${c('retries')} retries, ${c('rateLimited')} RATE_LIMITED), ${c('deliveries')} deliveries, ${c('marks')} marks, ${c('reconnects')} reconnects; ${states}`,
    );
  }, 5000);
  const faults = await runFaults(plan, cluster, clients, rng.fork('faults'), t0, progress);
  const rest = t0 + plan.loadMs - now();
  if (rest > 0) await sleep(rest);

  progress('load over: no new sends; every server back up; waiting for sends under way');
  for (const client of all) client.send({ type: 'quiesce', giveUpInMs: plan.timings.drainMs });
  await cluster.ensureAllUp();
  await Promise.all(all.map((client) => client.next('drained', plan.timings.drainMs + 60_000)));
  const seqs = await lastSeqs(world);
  progress(`sends settled; listeners catching up to ${Object.values(seqs).reduce((a, b) => a + b, 0)} messages`);
  for (const client of all) client.send({ type: 'finish', lastSeqs: seqs, withinMs: plan.timings.catchUpMs });
  const finished = await Promise.all(all.map((client) => client.next('finished', plan.timings.catchUpMs + 120_000)));
  clearInterval(ticker);
  const behind = finished.flatMap((f) => f.behind);
  if (behind.length > 0) progress(`behind at the end: ${behind.join(', ')}`);
  const histories = all.map((client) => client.history());
  await Promise.all(all.map((client) => client.close()));
  await cluster.stop();

  progress('checking the histories against the store');
  const store = new SqliteStore(sqlitePath);
  const state = await readFinalState(store, world);
  await store.close();
  const verdict = check(plan, world, histories, state, faults, t0);
  console.log(table(plan, verdict));
  for (const invariant of verdict.invariants.filter((i) => i.violations > 0)) {
    console.log(`\n${invariant.name}: ${invariant.violations} violation(s), for example:`);
    for (const example of invariant.examples) console.log(`  - ${example}`);
  }
  const file = saveRun({ plan, loadStartedAt: t0, faults, verdict, startedAt, finishedAt: new Date().toISOString() }, histories, state, dir, args.history);
  const where = file ? `; history in ${path.relative(process.cwd(), file)}` : '';
  if (verdict.violations > 0) progress(`${verdict.violations} violation(s)${where}; replay with ${replay}`);
  else progress(`no violations (seed ${seed})${where}`);
  return verdict.violations === 0 ? 0 : 1;
}

let code = 2;
try {
  code = await main();
} catch (error) {
  progress(`the run failed: ${(error as Error).stack ?? String(error)}`);
} finally {
  killAll();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
