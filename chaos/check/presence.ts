// Presence converges: once all of a user's devices are gone, every watcher that is connected sees
// the user OFFLINE within the presence TTL plus the grace (plus some slack for a busy machine), and
// nothing says ONLINE again until a device comes back.
import type { SubjectHistory, WatcherHistory } from '../lib/history.ts';
import type { Timings } from '../lib/plan.ts';
import { type InvariantResult, Tally } from './tally.ts';

/** The watcher was connected at t, with its presence query answered by then. */
function liveAt(watcher: WatcherHistory, t: number): boolean {
  return watcher.sessions.some((session, index) => {
    if (session.readyAt === null || (session.endedAt !== null && session.endedAt < t)) return false;
    return watcher.observations.some(([, , at, source, s]) => s === index && source === 'query' && at <= t);
  });
}

export function checkPresence(subjects: SubjectHistory[], watchers: WatcherHistory[], timings: Timings): InvariantResult {
  const tally = new Tally('presence: OFFLINE within TTL + grace once all devices are gone');
  const boundMs = timings.presenceTtlMs + timings.presenceGraceMs + timings.presenceSlackMs;
  for (const subject of subjects) {
    for (const { goneAt, backAt } of subject.periods) {
      if (goneAt === null || backAt === null || backAt < goneAt + boundMs) continue;
      const deadline = goneAt + boundMs;
      for (const watcher of watchers) {
        if (!liveAt(watcher, deadline)) continue;
        const seen = watcher.observations.filter(([user]) => user === subject.user);
        const view = seen.findLast(([, , at]) => at <= deadline);
        const flap = seen.find(([, status, at]) => at > deadline && at < backAt && status !== 'OFFLINE');
        const gone = ((deadline - goneAt) / 1000).toFixed(1);
        tally.check(
          view?.[1] === 'OFFLINE' && !flap,
          () =>
            flap
              ? `${watcher.name} saw ${subject.user} ${flap[1]} again ${((flap[2] - goneAt) / 1000).toFixed(1)} s after all its devices left (${flap[3]})`
              : `${watcher.name} still saw ${subject.user} ${view?.[1] ?? 'nothing'} ${gone} s after all its devices left`,
        );
      }
    }
  }
  return tally.result();
}
