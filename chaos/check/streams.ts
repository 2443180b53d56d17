// What the listeners were delivered, against the store.
// messageAdded: across all its reconnects and resumes, each listener's deliveries are exactly the
// stored messages after the seq it started from, in order, each once.
// viewerEvents (no afterSeq): within one subscription each channel's messages come in order, one
// after the other; with the history reads a device makes after reconnecting, it ends up with
// every message of its channels; and it hears nothing from a channel it is not in.
import { toGlobalId } from '../../src/domain/ids.ts';
import type { DeviceHistory, ListenerHistory } from '../lib/history.ts';
import type { FinalState } from './state.ts';
import { type InvariantResult, Tally, ranges } from './tally.ts';

function sessionNote(history: { sessions: { server: number }[] }, session: number): string {
  const server = history.sessions[session]?.server;
  return `session ${session}${server === undefined ? '' : ` on s${server}`}`;
}

export function checkListeners(listeners: ListenerHistory[], state: FinalState): InvariantResult {
  const tally = new Tally('messageAdded: every message once, in order, across resumes');
  for (const listener of listeners) {
    const { messages, lastSeq } = state.get(listener.channel)!;
    const idAt = new Map(messages.map((m) => [m.seq, toGlobalId('Message', m.id)]));
    let expected = listener.startAfterSeq + 1;
    tally.count(Math.max(0, lastSeq - listener.startAfterSeq));
    for (const [seq, , session, id] of listener.deliveries) {
      const where = `${listener.name}, ${sessionNote(listener, session)}`;
      if (idAt.get(seq) !== id) tally.violation(`${where}: seq ${seq} came as ${id}, stored as ${idAt.get(seq) ?? 'nothing'}`);
      if (seq === expected) expected++;
      else if (seq < expected) tally.violation(`${where}: seq ${seq} again (or out of order) after ${expected - 1}`);
      else {
        tally.violation(`${where}: gap, ${ranges(range(expected, seq - 1))} never delivered (next was ${seq})`);
        expected = seq + 1;
      }
    }
    if (expected <= lastSeq) tally.violation(`${listener.name}: stopped at ${expected - 1} of ${lastSeq}; ${ranges(range(expected, lastSeq))} never delivered`);
  }
  return tally.result();
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

export function checkDevices(devices: DeviceHistory[], state: FinalState): InvariantResult[] {
  const order = new Tally('viewerEvents: in order, no gap, within a subscription');
  const coverage = new Tally('viewerEvents + gap fills: every message of every channel');
  const foreign = new Tally("viewerEvents: nothing from channels the viewer is not in");
  for (const device of devices) {
    const mine = new Set(device.channels);
    // Per session and channel, the last seq delivered live.
    const last = new Map<string, number>();
    const have = new Map<number, Set<number>>(device.channels.map((c) => [c, new Set<number>()]));
    for (const [kind, channel, seq, , , , , session] of device.events) {
      if (kind !== 'm') continue;
      foreign.check(mine.has(channel), () => `${device.name}: a message of ${channel < 0 ? 'a channel it does not know' : `c${channel}`} (${sessionNote(device, session)})`);
      if (!mine.has(channel)) continue;
      have.get(channel)!.add(seq);
      const key = `${session}|${channel}`;
      const previous = last.get(key);
      last.set(key, Math.max(previous ?? seq, seq));
      if (previous === undefined) continue;
      order.check(seq === previous + 1, () =>
        seq <= previous
          ? `${device.name}, c${channel}, ${sessionNote(device, session)}: seq ${seq} after ${previous}`
          : `${device.name}, c${channel}, ${sessionNote(device, session)}: gap, ${ranges(range(previous + 1, seq - 1))} skipped (next was ${seq})`,
      );
    }
    for (const fill of device.fills) for (const seq of fill.seqs) have.get(fill.channel)?.add(seq);
    for (const channel of device.channels) {
      const { lastSeq } = state.get(channel)!;
      const seen = have.get(channel)!;
      const missing = range(1, lastSeq).filter((seq) => !seen.has(seq));
      coverage.count(lastSeq);
      // One violation per run of missing messages, as a gap counts once in the other checks.
      const gaps = missing.filter((seq, i) => i === 0 || missing[i - 1] !== seq - 1).length;
      coverage.violation(`${device.name}, c${channel}: ${ranges(missing)} of ${lastSeq} never seen, live or filled${device.caughtUp ? '' : ' (it was behind at the end)'}`, gaps);
    }
  }
  return [order.result(), coverage.result(), foreign.result()];
}
