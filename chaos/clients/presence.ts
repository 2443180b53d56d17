// Presence as users produce and watch it. A subject's devices connect for a few seconds, then all
// leave for longer than the presence TTL plus the grace, again and again. A watcher subscribes to
// presenceChanged for the subjects and, after every reconnect, asks presence() for where they
// stand (presenceChanged has no resume).
import { now, sleep } from '../../bench/lib/clock.ts';
import { PresenceChangedDocument, type PresenceChangedSubscription, PresenceDocument } from '../../operations/generated/graphql.ts';
import type { SubjectHistory, WatcherHistory } from '../lib/history.ts';
import type { Timings } from '../lib/plan.ts';
import type { Random } from '../lib/random.ts';
import type { World } from '../lib/world.ts';
import { describe } from './api.ts';
import { Connection } from './session.ts';

/** Sleeps up to ms, in steps, returning early once going() turns false. */
async function sleepWhile(ms: number, going: () => boolean): Promise<void> {
  const until = now() + ms;
  while (going() && now() < until) await sleep(Math.min(250, until - now()));
}

export class PresenceSubject {
  readonly history: SubjectHistory;
  private devices: Connection[] = [];

  constructor(
    private readonly user: string,
    private readonly deviceCount: number,
    private readonly world: World,
    private readonly wsUrls: string[],
    private readonly timings: Timings,
    private readonly rng: Random,
  ) {
    this.history = { user, periods: [] };
  }

  /** Online for 3–8 s, then gone for TTL + grace + slack and 1–4 s more; until going() ends. */
  async cycle(going: () => boolean): Promise<void> {
    const { presenceTtlMs, presenceGraceMs, presenceSlackMs, idleMs } = this.timings;
    while (going()) {
      const period = { onlineAt: now(), goneAt: null as number | null, backAt: null as number | null };
      const previous = this.history.periods.at(-1);
      if (previous) previous.backAt = period.onlineAt;
      this.history.periods.push(period);
      const token = this.world.users[this.user]!.token;
      this.devices = Array.from({ length: this.deviceCount }, (_, d) => {
        const connection = new Connection({ wsUrls: this.wsUrls, token, deviceId: `device${d}`, idleMs }, this.rng.fork(`d${d}`), () => {});
        connection.start();
        return connection;
      });
      await sleepWhile(this.rng.int(3000, 8000), going);
      if (!going()) return;
      await Promise.all(this.devices.map((device) => device.stop()));
      this.devices = [];
      period.goneAt = now();
      await sleepWhile(presenceTtlMs + presenceGraceMs + presenceSlackMs + this.rng.int(1000, 4000), going);
    }
  }

  /** Ends the run for this subject: its last period ends now. */
  async stop(): Promise<void> {
    await Promise.all(this.devices.map((device) => device.stop()));
    const last = this.history.periods.at(-1);
    if (last && last.backAt === null) last.backAt = now();
  }
}

export class PresenceWatcher {
  readonly history: WatcherHistory;
  private readonly connection: Connection;

  constructor(name: string, user: string, subjects: string[], world: World, wsUrls: string[], timeoutMs: number, idleMs: number, rng: Random) {
    this.history = { name, user, sessions: [], observations: [], errors: [] };
    const userIds = subjects.map((id) => world.users[id]!.gid);
    const internal = new Map(subjects.map((id) => [world.users[id]!.gid, id]));
    const token = world.users[user]!.token;
    this.connection = new Connection({ wsUrls, token, deviceId: name, idleMs }, rng, async (socket, session) => {
      socket.subscribe(PresenceChangedDocument, { userIds }, {
        next: (payload) => {
          const change = (payload.data as PresenceChangedSubscription | undefined)?.presenceChanged;
          if (!change) return this.note(`session ${session}: ${JSON.stringify(payload.errors ?? payload).slice(0, 200)}`);
          this.history.observations.push([internal.get(change.userId) ?? change.userId, change.status, now(), 'event', session]);
        },
        ended: (why) => socket.terminate(`subscription ended: ${why}`),
      });
      const answer = await socket.request(PresenceDocument, { userIds }, timeoutMs);
      if (!answer.ok) throw new Error(`presence query failed: ${describe(answer)}`);
      const at = now();
      for (const p of answer.data.presence) this.history.observations.push([internal.get(p.userId) ?? p.userId, p.status, at, 'query', session]);
    });
    this.history.sessions = this.connection.sessions;
  }

  private note(error: string): void {
    if (this.history.errors.length < 100) this.history.errors.push(error);
  }

  start(): void {
    this.connection.start();
  }

  async stop(): Promise<void> {
    await this.connection.stop();
  }
}
