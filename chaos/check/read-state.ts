// Read markers and badges. No device ever sees a marker move back (on its stream, or in the
// answers to its own marks); each final marker is what the history allows (at least the highest
// acknowledged mark, at most the highest asked; a sender's is its newest message); the final
// unread and mention counts the API gives equal what the log says; and each device's stream
// leaves it with the badges the store has (read state synced across devices).
import type { DeviceHistory } from '../lib/history.ts';
import type { World } from '../lib/world.ts';
import { type FinalState, mentionsFromLog } from './state.ts';
import { type InvariantResult, Tally } from './tally.ts';

export function checkReadState(devices: DeviceHistory[], state: FinalState, world: World): InvariantResult[] {
  const backwards = new Tally('read markers never move back on a device');
  for (const device of devices) {
    const seen = new Map<number, number>();
    for (const [kind, channel, , , , lastReadSeq, , session] of device.events) {
      if (kind === 'o' || lastReadSeq < 0) continue;
      const before = seen.get(channel) ?? 0;
      backwards.check(lastReadSeq >= before, () => `${device.name}, c${channel}: its stream showed marker ${lastReadSeq} after ${before} (session ${session})`);
      seen.set(channel, Math.max(before, lastReadSeq));
    }
    const answered = new Map<number, number>();
    for (const mark of device.marks) {
      if (mark.lastReadSeq === null) continue;
      const before = answered.get(mark.channel) ?? 0;
      backwards.check(
        mark.lastReadSeq >= before && mark.lastReadSeq >= mark.throughSeq,
        () => `${device.name}, c${mark.channel}: marking through ${mark.throughSeq} answered marker ${mark.lastReadSeq} (an earlier answer said ${before})`,
      );
      answered.set(mark.channel, Math.max(before, mark.lastReadSeq));
    }
  }

  const markers = new Tally('final read markers match the marks and sends');
  const readers = new Map<string, DeviceHistory[]>();
  for (const device of devices) if (device.marks.length > 0 || device.finalBadges) readers.set(device.user, [...(readers.get(device.user) ?? []), device]);
  for (const [user, own] of readers) {
    for (const channel of own[0]!.channels) {
      const marks = own.flatMap((d) => d.marks).filter((m) => m.channel === channel);
      const acked = Math.max(0, ...marks.filter((m) => m.lastReadSeq !== null).map((m) => m.throughSeq));
      const asked = Math.max(0, ...marks.map((m) => m.throughSeq));
      const marker = state.get(channel)!.markers.get(user) ?? 0;
      markers.check(marker >= acked && marker <= asked, () => `${world.users[user]!.name}, c${channel}: marker ${marker}, acknowledged marks up to ${acked}, asked up to ${asked}`);
    }
  }
  for (const { user, channels } of world.senders) {
    for (const channel of channels) {
      const own = state.get(channel)!.messages.filter((m) => m.authorId === user);
      const newest = Math.max(0, ...own.map((m) => m.seq));
      const marker = state.get(channel)!.markers.get(user) ?? 0;
      markers.check(marker === newest, () => `${world.users[user]!.name}, c${channel}: marker ${marker}, own newest message ${newest}`);
    }
  }

  const counts = new Tally('final unread and mention counts equal the log');
  const synced = new Tally("each device's stream ends with the store's badges");
  for (const device of devices) {
    const expected = (channel: number) => {
      const channelState = state.get(channel)!;
      const marker = channelState.markers.get(device.user) ?? 0;
      return { unread: channelState.lastSeq - marker, mention: mentionsFromLog(channelState, device.user), lastReadSeq: marker };
    };
    const describe = (b: { unread: number; mention: number; lastReadSeq: number }) => `unread ${b.unread}, mentions ${b.mention}, marker ${b.lastReadSeq}`;
    for (const badge of device.finalBadges ?? []) {
      const want = expected(badge.channel);
      counts.check(
        badge.unread === want.unread && badge.mention === want.mention && badge.lastReadSeq === want.lastReadSeq,
        () => `${device.name}, c${badge.channel}: the API says ${describe(badge)}; the log says ${describe(want)}`,
      );
    }
    if (!device.caughtUp) continue;
    for (const channel of device.channels) {
      const last = device.events.findLast((e) => e[1] === channel && e[0] !== 'o');
      if (!last) continue;
      const [, , , unread, mention, lastReadSeq] = last;
      const want = expected(channel);
      synced.check(
        unread === want.unread && mention === want.mention && lastReadSeq === want.lastReadSeq,
        () => `${device.name}, c${channel}: last event showed ${describe({ unread, mention, lastReadSeq })}; the store has ${describe(want)}`,
      );
    }
  }
  return [backwards.result(), markers.result(), counts.result(), synced.result()];
}
