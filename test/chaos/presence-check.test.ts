// The chaos run's presence invariant: a watcher must see OFFLINE within TTL + grace + slack, except
// for the time a fault kept every change from it (its own server paused, Redis restarted).
import { describe, expect, it } from 'vitest';
import { checkPresence } from '../../chaos/check/presence.ts';
import type { FaultRecord } from '../../chaos/lib/faults.ts';
import type { SubjectHistory, WatcherHistory } from '../../chaos/lib/history.ts';
import { makePlan } from '../../chaos/lib/plan.ts';

const { timings } = makePlan({ seed: 1, quick: true, servers: 3 });
const bound = timings.presenceTtlMs + timings.presenceGraceMs + timings.presenceSlackMs;
const goneAt = 10_000;
const subject: SubjectHistory = { user: 'alice', periods: [{ onlineAt: 5_000, goneAt, backAt: goneAt + 60_000 }] };

/** A watcher connected to server s1 all along that saw alice OFFLINE at `offlineAt`. */
function watcher(offlineAt: number): WatcherHistory {
  return {
    name: 'watcher0',
    user: 'bob',
    sessions: [{ server: 1, openedAt: 0, readyAt: 100, endedAt: null, end: '' }],
    observations: [
      ['alice', 'ONLINE', 200, 'query', 0],
      ['alice', 'OFFLINE', offlineAt, 'event', 0],
    ],
    errors: [],
  };
}

function fault(kind: FaultRecord['kind'], target: string, startedAt: number, endedAt: number): FaultRecord {
  return { index: 0, kind, target, plannedAt: startedAt, startedAt, endedAt, detail: '' };
}

const violations = (offlineAt: number, faults: FaultRecord[]) => checkPresence([subject], [watcher(offlineAt)], timings, faults).violations;

describe('the chaos presence invariant', () => {
  it('holds when OFFLINE comes within the bound, and is violated when it comes later', () => {
    expect(violations(goneAt + bound - 1, [])).toBe(0);
    expect(violations(goneAt + bound + 1_000, [])).toBe(1);
  });

  it('gives a watcher the time its own server was paused, and not the time another server was', () => {
    const late = goneAt + bound + 2_000;
    const pause = (target: string) => fault('pause', target, goneAt + bound - 3_000, goneAt + bound + 1_000);
    expect(violations(late, [pause('s1')])).toBe(0);
    expect(violations(late, [pause('s2')])).toBe(1);
  });

  it('gives the time of a Redis restart, plus the time to settle after it, and no more', () => {
    const restart = fault('redis-restart', 'redis', goneAt + 3_000, goneAt + 4_000);
    expect(violations(goneAt + bound + 1_000 + timings.faultSettleMs - 1, [restart])).toBe(0);
    expect(violations(goneAt + bound + 1_000 + timings.faultSettleMs + 1, [restart])).toBe(1);
  });

  it('is violated when ONLINE is said again after OFFLINE before a device is back', () => {
    const flapping = watcher(goneAt + 2_000);
    flapping.observations.push(['alice', 'ONLINE', goneAt + bound + 5_000, 'event', 0]);
    expect(checkPresence([subject], [flapping], timings, []).violations).toBe(1);
  });
});
