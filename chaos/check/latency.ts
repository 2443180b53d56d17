// Send → delivery latency outside fault windows: from the start of a send that succeeded at its
// first attempt to its arrival at each listener and device (slow consumers, replays after a
// reconnect and the first seconds of load left out), when no fault was under way or settling
// between the two.
import { percentile } from '../../bench/lib/stats.ts';
import type { ClientHistory, SendRecord } from '../lib/history.ts';
import type { FaultRecord } from '../lib/faults.ts';
import type { FinalState } from './state.ts';

export interface Latency {
  deliveries: number;
  p50: number;
  p99: number;
  max: number;
  /** Deliveries left out: during a fault or the warm-up, after a retried send, replayed, or to a slow consumer. */
  excluded: number;
}

export function measureLatency(histories: ClientHistory[], state: FinalState, faults: FaultRecord[], settleMs: number, warmFrom: number): Latency {
  const sends = new Map(histories.flatMap((h) => h.sends).map((s) => [`${s.author}|${s.clientMessageId}`, s]));
  const bySeq = new Map<string, SendRecord | undefined>();
  for (const [channel, { messages }] of state) for (const m of messages) bySeq.set(`${channel}|${m.seq}`, sends.get(`${m.authorId}|${m.clientMessageId}`));
  const windows = faults
    .filter((f) => f.kind !== 'slow' && f.startedAt !== null)
    .map((f) => [f.startedAt!, (f.endedAt ?? f.startedAt!) + settleMs] as const);
  const quiet = (from: number, to: number) => windows.every(([start, end]) => to < start || from > end);

  const values: number[] = [];
  let excluded = 0;
  const consider = (channel: number, seq: number, at: number, sessionReadyAt: number | null | undefined) => {
    const send = bySeq.get(`${channel}|${seq}`);
    const left = !send || send.attempts !== 1 || send.firstAt < warmFrom || sessionReadyAt == null || send.firstAt < sessionReadyAt;
    if (left || !quiet(send.firstAt, at)) {
      excluded++;
      return;
    }
    values.push(at - send.firstAt);
  };
  for (const history of histories) {
    for (const listener of history.listeners) {
      for (const [seq, at, session] of listener.deliveries) {
        if (listener.slow >= 0) excluded++;
        else consider(listener.channel, seq, at, listener.sessions[session]?.readyAt);
      }
    }
    for (const device of history.devices) {
      for (const [kind, channel, seq, , , , at, session] of device.events) {
        if (kind !== 'm') continue;
        if (device.slow >= 0) excluded++;
        else consider(channel, seq, at, device.sessions[session]?.readyAt);
      }
    }
  }
  return { deliveries: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max: values.reduce((a, b) => Math.max(a, b), 0), excluded };
}
