// What one chaos run does, drawn from its seed: how long the load lasts, the settings the servers
// run with, the shape of the world, and the faults with their times, kinds and targets.
import { Random } from './random.ts';

export type FaultKind = 'kill' | 'pause' | 'redis-restart' | 'cut' | 'slow';
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'redis-restart', 'cut', 'slow'];

export interface Fault {
  index: number;
  /** ms after the load starts. */
  at: number;
  kind: FaultKind;
  /** A server (kill, pause, cut) or a slow consumer (slow); 0 for Redis. */
  target: number;
  /** How long the server or Redis stays down, the pause, or the stall lasts. */
  durationMs: number;
  /** cut: the share of the proxy's connections that are reset. */
  probability: number;
}

export interface Timings {
  /** The servers' WS_KEEPALIVE_MS: every pause of 1–10 s outlasts it. */
  keepAliveMs: number;
  presenceTtlMs: number;
  presenceGraceMs: number;
  presenceSweepMs: number;
  /** SEND_RATE_LIMIT: low enough that senders meet RATE_LIMITED now and then. */
  sendRateLimit: number;
  /** A client gives up on an HTTP request after this long and retries elsewhere. */
  requestTimeoutMs: number;
  /** A client that has heard nothing on a socket (not even a ping) for this long drops it. */
  idleMs: number;
  /** Presence may take TTL + grace to converge; this much more is allowed for a busy machine. */
  presenceSlackMs: number;
  /** After the load: how long senders may keep retrying, and listeners take to catch up. */
  drainMs: number;
  catchUpMs: number;
  /** Latency is measured outside faults: a fault's window lasts this long after it ends. */
  faultSettleMs: number;
  /** ...and after the first seconds of load, once the servers' code paths are warm. */
  warmUpMs: number;
}

export interface WorldShape {
  channels: number;
  senders: number;
  channelsPerSender: number;
  /** messageAdded listeners started after the load began (from the channel's newest seq then). */
  lateListeners: number;
  /** Users who only watch viewerEvents. */
  viewers: number;
  /** Users with two devices that mark channels read. */
  readers: number;
  channelsPerViewer: number;
  presenceSubjects: number;
  presenceWatchers: number;
}

/** The slow consumers: a messageAdded listener and a viewerEvents device that stop reading. */
export const SLOW_CONSUMERS = 2;

export interface Plan {
  seed: number;
  mode: 'quick' | 'full';
  servers: number;
  loadMs: number;
  timings: Timings;
  world: WorldShape;
  faults: Fault[];
}

/** How long a restarted server is counted as busy in the schedule (a start on a loaded machine). */
const RESTART_ESTIMATE_MS = 12_000;

function faultOf(rng: Random, kind: FaultKind, at: number, index: number, target: number): Fault {
  const durationMs = {
    kill: rng.int(500, 3000),
    pause: rng.int(1000, 10_000),
    'redis-restart': rng.int(200, 2000),
    cut: 0,
    slow: rng.int(2000, 10_000),
  }[kind];
  return { index, at: Math.round(at), kind, target, durationMs, probability: kind === 'cut' ? Math.round(rng.between(0.3, 1) * 100) / 100 : 0 };
}

/**
 * Faults spread over the load, kinds in shuffled rounds so each kind comes as often as the others.
 * A server is never killed or paused while it is still out from an earlier fault, and at least
 * one server stays up (when there are several): such a fault becomes a cut instead.
 */
function schedule(rng: Random, loadMs: number, servers: number, quick: boolean): Fault[] {
  const start = quick ? 4000 : 10_000;
  const end = loadMs - (quick ? 10_000 : 20_000);
  const count = quick ? 2 * FAULT_KINDS.length : Math.max(FAULT_KINDS.length, Math.round((end - start) / 10_000));
  const kinds: FaultKind[] = [];
  while (kinds.length < count) kinds.push(...rng.shuffle(FAULT_KINDS));
  const gap = (end - start) / count;
  const outUntil = new Array<number>(servers).fill(0);
  const faults: Fault[] = [];
  for (let i = 0; i < count; i++) {
    const at = start + i * gap + rng.between(0, gap / 2);
    let kind = kinds[i]!;
    let target = 0;
    if (kind === 'kill' || kind === 'pause') {
      const out = outUntil.filter((until) => until > at).length;
      const free = outUntil.map((until, s) => (until <= at ? s : -1)).filter((s) => s >= 0);
      if (free.length === 0 || (servers > 1 && out >= servers - 1)) kind = 'cut';
      else target = rng.pick(free);
    }
    if (kind === 'cut') target = rng.int(0, servers - 1);
    if (kind === 'slow') target = rng.int(0, SLOW_CONSUMERS - 1);
    const fault = faultOf(rng, kind, at, i, target);
    if (kind === 'kill') outUntil[target] = at + fault.durationMs + RESTART_ESTIMATE_MS;
    if (kind === 'pause') outUntil[target] = at + fault.durationMs + 2000;
    faults.push(fault);
  }
  return faults;
}

export function makePlan(options: { seed: number; quick: boolean; servers: number; minutes?: number }): Plan {
  const { seed, quick, servers } = options;
  const rng = new Random(seed).fork('plan');
  const loadMs = Math.round((options.minutes ?? (quick ? 0.75 : 10)) * 60_000);
  const keepAliveMs = 2000;
  return {
    seed,
    mode: quick ? 'quick' : 'full',
    servers,
    loadMs,
    timings: {
      keepAliveMs,
      presenceTtlMs: 4000,
      presenceGraceMs: 2000,
      presenceSweepMs: 500,
      sendRateLimit: 25,
      requestTimeoutMs: 5000,
      idleMs: 3 * keepAliveMs + 1000,
      presenceSlackMs: 5000,
      drainMs: 60_000,
      catchUpMs: 30_000,
      faultSettleMs: 3000,
      warmUpMs: 5000,
    },
    world: {
      channels: 6,
      senders: 6,
      channelsPerSender: 2,
      lateListeners: 3,
      viewers: 2,
      readers: 3,
      channelsPerViewer: 3,
      presenceSubjects: 3,
      presenceWatchers: 2,
    },
    faults: schedule(rng, loadMs, servers, quick),
  };
}
