// The send-throughput shape (senders who are members of every channel) and the store's own
// ceiling on it: SqliteStore.appendMessage called in a closed loop, nothing else in the way.
import type { Store } from '../../src/store/store.ts';
import { BENCH_ADMIN, type CeilingResult, type Report, type SeedPlan, benchUser, draft, seedOrganization } from './plans.ts';

/** The channel of sender s's j-th message: every sender goes round all channels, each from its own start. */
export const sendChannelOf = (sender: number, j: number, senders: number, channels: number) => (sender + j * senders) % channels;
/** The text and idempotency key of sender s's j-th message, the same over HTTP and in the store alone. */
export const sendTextOf = (sender: number, j: number) => ({ text: `bench send ${sender}:${j} from a closed loop`, clientMessageId: `s${sender}-${j}` });

/** The organization the senders write in: users 0..senders-1, all members of every channel. */
export const sendsPlan = (senders: number, channels: number) =>
  ({ kind: 'organization', name: 'sends', creator: BENCH_ADMIN, users: senders, channels }) as const satisfies SeedPlan;

/** The send shape on a fresh file, then appendMessage as fast as one caller can go. */
export async function storeCeiling(store: Store, plan: Extract<SeedPlan, { kind: 'storeCeiling' }>, report: Report): Promise<CeilingResult> {
  const seeded = await seedOrganization(store, sendsPlan(plan.senders, plan.channels), report);
  const ids = seeded.channelIds;
  let j = 0;
  const loop = async (seconds: number) => {
    const until = performance.now() + seconds * 1000;
    let messages = 0;
    while (performance.now() < until) {
      // 100 appends between clock reads: the clock costs nothing next to them.
      for (let k = 0; k < 100; k++, j++, messages++) {
        // The senders take turns, each with its own count, as the HTTP senders do.
        const sender = j % plan.senders;
        const nth = Math.floor(j / plan.senders);
        const { text, clientMessageId } = sendTextOf(sender, nth);
        const channelId = ids[sendChannelOf(sender, nth, plan.senders, ids.length)]!;
        await store.appendMessage(draft(channelId, benchUser(sender).id, text, clientMessageId));
      }
    }
    return messages;
  };
  await loop(plan.warmupSeconds);
  const started = performance.now();
  const messages = await loop(plan.seconds);
  const seconds = (performance.now() - started) / 1000;
  report(`the store alone appended ${messages} messages in ${seconds.toFixed(1)} s`);
  return { messages, seconds };
}
