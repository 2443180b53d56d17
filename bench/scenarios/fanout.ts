// One "session" per (system, N): start the servers, connect N subscribers, then measure idle
// memory per connection, fan-out rounds (send → last receive) and optionally a sustained rate.
import os from 'node:os';
import { sleep } from '../lib/clock.ts';
import { progress } from '../lib/log.ts';
import { collectedRssKiB } from '../lib/proc.ts';
import { median } from '../lib/stats.ts';
import { Fleet, PER_CLIENT_PROCESS, type SustainResult } from '../load/fleet.ts';
import type { System } from '../systems/types.ts';

/** Sockets one server process takes: under the 20,000 open-files limit with room to spare. */
const PER_SERVER_PROCESS = 17_000;

export interface SessionOptions {
  subscribers: number;
  rounds: number;
  roundTimeoutMs: number;
  sustain?: { rate: number; seconds: number };
}

export interface SessionResult {
  system: string;
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
  memory: { beforeKiB: number; afterKiB: number; perConnectionKiB: number };
  sustain?: SustainResult;
}

export function serverProcessesFor(subscribers: number): number {
  return subscribers > PER_SERVER_PROCESS ? Math.max(3, Math.ceil(subscribers / PER_SERVER_PROCESS)) : 1;
}

export async function runSession(system: System, redis: { url: string; flush(): Promise<void> }, options: SessionOptions): Promise<SessionResult> {
  const n = options.subscribers;
  const label = `${system.label} ${n}`;
  const serverProcesses = serverProcessesFor(n);
  const loadAverage = os.loadavg()[0]!;
  await redis.flush();
  progress(`${label}: starting ${serverProcesses} server process(es)`);
  const deployment = await system.start(serverProcesses, redis.url);
  let fleet: Fleet | undefined;
  try {
    const params = await deployment.prepare(n);
    const beforeKiB = await collectedRssKiB(deployment.servers);

    const connectStart = Date.now();
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
    const connectSeconds = (Date.now() - connectStart) / 1000;
    const publish = (text: string) => deployment.publish(text);

    // Warm-up: until two rounds reach every subscriber. This is also the "subscribed" barrier
    // for graphql-ws, whose protocol does not acknowledge a subscription.
    let warm = 0;
    for (let attempt = 1; attempt <= 10 && warm < 2; attempt++) {
      const round = await fleet.round(publish, options.roundTimeoutMs);
      if (round.delivered === round.expected && round.expected > 0) warm++;
      else progress(`${label}: warm-up ${attempt}: ${round.delivered}/${round.expected} received`);
    }
    if (warm < 2) progress(`${label}: warm-up never reached every subscriber; measuring anyway`);

    const afterKiB = await collectedRssKiB(deployment.servers);

    const roundsMs: number[] = [];
    let incompleteRounds = 0;
    for (let r = 0; r < options.rounds; r++) {
      const round = await fleet.round(publish, options.roundTimeoutMs);
      if (round.delivered === round.expected) roundsMs.push(round.ms);
      else {
        incompleteRounds++;
        progress(`${label}: round ${r + 1} incomplete: ${round.delivered}/${round.expected} received`);
      }
      await sleep(200);
    }
    progress(`${label}: fan-out rounds ${roundsMs.map((ms) => ms.toFixed(1)).join(', ')} ms`);

    let sustain: SustainResult | undefined;
    if (options.sustain) {
      const { rate, seconds } = options.sustain;
      progress(`${label}: sustained ${rate} msg/s for ${seconds} s`);
      sustain = await fleet.sustain(publish, rate, seconds);
      progress(`${label}: sustained p50 ${sustain.p50.toFixed(1)} ms, p99 ${sustain.p99.toFixed(1)} ms, ${sustain.delivered}/${sustain.expected} delivered`);
    }

    return {
      system: system.name,
      subscribers: n,
      serverProcesses,
      clientProcesses: Math.ceil(n / PER_CLIENT_PROCESS),
      subscribed: fleet.subscribed,
      failed: fleet.failed,
      loadAverage,
      connectsPerSecond: fleet.subscribed / connectSeconds,
      fanoutMs: median(roundsMs),
      roundsMs,
      incompleteRounds,
      memory: { beforeKiB, afterKiB, perConnectionKiB: (afterKiB - beforeKiB) / fleet.subscribed },
      sustain,
    };
  } finally {
    await fleet?.close();
    await deployment.stop();
  }
}
