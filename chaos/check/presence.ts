// Presence converges: once all of a user's devices are gone, every watcher that is connected sees
// the user OFFLINE within the presence TTL plus the grace (plus some slack for a busy machine), and
// nothing says ONLINE again until a device comes back. Two faults stop a change from reaching a
// watcher however correct the servers are, so the bound is stretched by their time (plus the time
// to settle after them) when they fall in it: a pause of the server the watcher is connected to
// (it delivers nothing until SIGCONT), and a Redis restart (changes published while the bus is
// away are lost; watchers catch up once presence is current again).
import type { FaultRecord } from '../lib/faults.ts';
import type { SubjectHistory, WatcherHistory } from '../lib/history.ts';
import type { Timings } from '../lib/plan.ts';
import { type InvariantResult, Tally } from './tally.ts';

/** The session of the watcher that was connected at t, with its presence query answered by then. */
function sessionAt(watcher: WatcherHistory, t: number): number {
  return watcher.sessions.findIndex((session, index) => {
    if (session.readyAt === null || session.readyAt > t || (session.endedAt !== null && session.endedAt < t)) return false;
    return watcher.observations.some(([, , at, source, s]) => s === index && source === 'query' && at <= t);
  });
}

/**
 * The deadline for a watcher on `server` when the devices left at goneAt: the bound, moved on by
 * each fault that kept changes from it while the deadline was still ahead.
 */
function deadlineFor(goneAt: number, boundMs: number, server: string, faults: FaultRecord[], settleMs: number): number {
  let deadline = goneAt + boundMs;
  const blocking = faults
    .filter((f) => f.startedAt !== null && (f.kind === 'redis-restart' || (f.kind === 'pause' && f.target === server)))
    .sort((a, b) => a.startedAt! - b.startedAt!);
  for (const fault of blocking) {
    const ended = fault.endedAt ?? fault.startedAt!;
    if (fault.startedAt! > deadline || ended < goneAt) continue;
    deadline += ended - Math.max(fault.startedAt!, goneAt) + settleMs;
  }
  return deadline;
}

export function checkPresence(
  subjects: SubjectHistory[],
  watchers: WatcherHistory[],
  timings: Timings,
  faults: FaultRecord[],
): InvariantResult {
  const tally = new Tally('presence: OFFLINE within TTL + grace once all devices are gone');
  const boundMs = timings.presenceTtlMs + timings.presenceGraceMs + timings.presenceSlackMs;
  for (const subject of subjects) {
    for (const { goneAt, backAt } of subject.periods) {
      if (goneAt === null || backAt === null) continue;
      for (const watcher of watchers) {
        // Where the watcher was at the plain bound decides which server's pauses count.
        const plain = goneAt + boundMs;
        const session = sessionAt(watcher, plain);
        if (session < 0) continue;
        const deadline = deadlineFor(goneAt, boundMs, `s${watcher.sessions[session]!.server}`, faults, timings.faultSettleMs);
        if (backAt < deadline || sessionAt(watcher, deadline) < 0) continue;
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
