// One "session" per (system, N): start the servers, connect N subscribers, then measure idle
// memory per connection, fan-out rounds (send → last receive) with the servers' CPU time per
// delivery, optionally a sustained rate, and for viewerEvents one last untimed round in which
// every subscriber checks the badge counts in its frame.
import os from 'node:os';
import { sleep } from '../lib/clock.ts';
import { progress } from '../lib/log.ts';
import { collectedRssKiB, serversCpuSeconds } from '../lib/proc.ts';
import { median } from '../lib/stats.ts';
import { Fleet, PER_CLIENT_PROCESS, type SustainResult } from '../load/fleet.ts';
import type { System, Workload } from '../systems/types.ts';
import { BadgeBook } from './badges.ts';

/** Sockets one server process takes: under the 20,000 open-files limit with room to spare. */
const PER_SERVER_PROCESS = 17_000;
/** Warm-up and measured rounds each stop once this much time has passed (and 3 measured rounds are in). */
const ROUNDS_BUDGET_MS = 150_000;
const MIN_ROUNDS = 3;

export interface SessionOptions {
  subscribers: number;
  rounds: number;
  roundTimeoutMs: number;
  sustain?: { rate: number; seconds: number };
  /** Server processes to start; by default as many as the subscribers need. */
  serverProcesses?: number;
}

export interface SessionResult {
  system: string;
  /** ours only: what its subscribers were (systems/types.ts). */
  workload?: Workload;
  subscribers: number;
  serverProcesses: number;
  clientProcesses: number;
  subscribed: number;
  failed: number;
  /** 1-minute load average when the session started: high means the numbers are skewed. */
  loadAverage: number;
  /** Subscribers connected and subscribed per second (100 handshakes in flight per client process). */
  connectsPerSecond: number;
  /** Median send → last receive over the rounds every subscriber got. */
  fanoutMs: number;
  roundsMs: number[];
  incompleteRounds: number;
  /** CPU time (user + system) of every server process during the measured rounds, per delivery. */
  cpu: { seconds: number; deliveries: number; perDeliveryUs: number };
  memory: { beforeKiB: number; afterKiB: number; perConnectionKiB: number };
  sustain?: SustainResult;
  /** viewerEvents only: the checked round. mismatches = frames with other badges + subscribers without a frame. */
  badges?: { subscribers: number; received: number; wrong: number; mismatches: number; expectedUnread: number; mentionedUsers: number; sample?: string };
}

export function serverProcessesFor(subscribers: number): number {
  return subscribers > PER_SERVER_PROCESS ? Math.max(3, Math.ceil(subscribers / PER_SERVER_PROCESS)) : 1;
}

/** The Redis a session's servers share: REDIS_URL, or `env` instead (REDIS_CLUSTER_NODES of a cluster). */
export interface SessionRedis {
  url: string;
  env?: Record<string, string>;
  flush(): Promise<void>;
}

export async function runSession(system: System, redis: SessionRedis, options: SessionOptions): Promise<SessionResult> {
  const n = options.subscribers;
  const label = `${system.label} ${n}`;
  const serverProcesses = options.serverProcesses ?? serverProcessesFor(n);
  const loadAverage = os.loadavg()[0]!;
  await redis.flush();
  progress(`${label}: starting ${serverProcesses} server process(es)`);
  const deployment = await system.start({ processes: serverProcesses, redisUrl: redis.url, redisEnv: redis.env, subscribers: n });
  let fleet: Fleet | undefined;
  try {
    const params = await deployment.prepare();
    const beforeKiB = await collectedRssKiB(deployment.servers);

    fleet = await Fleet.start({
      label,
      protocol: system.protocol,
      urls: deployment.urls,
      total: n,
      params,
      connectTimeoutMs: 60_000,
      // Generous (this VM opens ~500-1000 loopback connections/s) but bounded: 50k → 7.5 min.
      readyTimeoutMs: 150_000 + n * 6,
    });
    if (fleet.subscribed === 0) throw new Error('no subscriber could subscribe');
    // Connection i is user i: the book knows every user's badges (viewerEvents shows them).
    const book = system.workload === 'viewerEvents' ? new BadgeBook(n) : undefined;
    const publish = async (text: string) => {
      const mentions = book?.next() ?? [];
      await deployment.publish(text, mentions);
      book?.record(mentions);
    };

    // Warm-up: until two rounds reach every subscriber. This is also the "subscribed" barrier
    // for graphql-ws, whose protocol does not acknowledge a subscription.
    let warm = 0;
    const warmStart = Date.now();
    for (let attempt = 1; attempt <= 10 && warm < 2 && Date.now() - warmStart < ROUNDS_BUDGET_MS; attempt++) {
      const round = await fleet.round(publish, options.roundTimeoutMs);
      if (round.delivered === round.expected && round.expected > 0) warm++;
      else progress(`${label}: warm-up ${attempt}: ${round.delivered}/${round.expected} received`);
    }
    if (warm < 2) progress(`${label}: warm-up never reached every subscriber; measuring anyway`);

    const afterKiB = await collectedRssKiB(deployment.servers);

    const roundsMs: number[] = [];
    let incompleteRounds = 0;
    let deliveries = 0;
    const roundsStart = Date.now();
    const cpuBefore = serversCpuSeconds(deployment.servers);
    for (let r = 0; r < options.rounds; r++) {
      if (r >= MIN_ROUNDS && Date.now() - roundsStart > ROUNDS_BUDGET_MS) {
        progress(`${label}: stopping after ${r} rounds (${ROUNDS_BUDGET_MS / 1000} s spent)`);
        break;
      }
      const round = await fleet.round(publish, options.roundTimeoutMs);
      deliveries += round.delivered;
      if (round.delivered === round.expected) roundsMs.push(round.ms);
      else {
        incompleteRounds++;
        progress(`${label}: round ${r + 1} incomplete: ${round.delivered}/${round.expected} received`);
      }
      await sleep(200);
    }
    const cpuSeconds = serversCpuSeconds(deployment.servers) - cpuBefore;
    progress(`${label}: fan-out rounds ${roundsMs.map((ms) => ms.toFixed(1)).join(', ')} ms; server CPU ${(cpuSeconds * 1000).toFixed(0)} ms for ${deliveries} deliveries`);

    let badges: SessionResult['badges'];
    if (book) {
      const mentions = book.next();
      const expected = book.expectedWith(mentions);
      const checkedPublish = async (text: string) => {
        await deployment.publish(text, mentions);
        book.record(mentions);
      };
      const round = await fleet.round(checkedPublish, options.roundTimeoutMs, expected);
      const missing = round.expected - round.delivered;
      badges = {
        subscribers: round.expected,
        received: round.delivered,
        wrong: round.mismatches,
        mismatches: round.mismatches + missing,
        expectedUnread: expected.unread,
        mentionedUsers: Object.keys(expected.mentions).length,
        sample: round.sample ?? (missing > 0 ? `${missing} subscriber(s) got no frame` : undefined),
      };
      progress(`${label}: badges checked: ${badges.mismatches} mismatches of ${badges.subscribers}${badges.sample ? ` (${badges.sample})` : ''}`);
    }

    let sustain: SustainResult | undefined;
    if (options.sustain) {
      const { rate, seconds } = options.sustain;
      progress(`${label}: sustained ${rate} msg/s for ${seconds} s`);
      sustain = await fleet.sustain(publish, rate, seconds);
      progress(`${label}: sustained p50 ${sustain.p50.toFixed(1)} ms, p99 ${sustain.p99.toFixed(1)} ms, ${sustain.delivered}/${sustain.expected} delivered`);
    }

    return {
      system: system.name,
      workload: system.workload,
      subscribers: n,
      serverProcesses,
      clientProcesses: Math.ceil(n / PER_CLIENT_PROCESS),
      subscribed: fleet.subscribed,
      failed: fleet.failed,
      loadAverage,
      connectsPerSecond: fleet.subscribed / fleet.connectSeconds,
      fanoutMs: median(roundsMs),
      roundsMs,
      incompleteRounds,
      cpu: { seconds: cpuSeconds, deliveries, perDeliveryUs: deliveries > 0 ? (cpuSeconds * 1e6) / deliveries : Number.NaN },
      memory: { beforeKiB, afterKiB, perConnectionKiB: (afterKiB - beforeKiB) / fleet.subscribed },
      sustain,
      badges,
    };
  } finally {
    await fleet?.close();
    await deployment.stop();
  }
}
