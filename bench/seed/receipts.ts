// The read-receipts channels: per size, an organization whose #general has that many members,
// a run of messages, and read and delivery markers spread over the channel's last part. What each
// message's counts must then be follows from the same rules, so answers can be checked.
import type { Store } from '../../src/store/store.ts';
import { BENCH_ADMIN, type Report, type ReceiptsSeed, type SeedPlan, addUsers, benchUser, createOrganization, draft, throttled } from './plans.ts';

/** Messages of the receipts channels are written by their first members, in turn. */
const AUTHORS = 20;

/** The user who wrote the k-th message (0-based) of a channel with `users` users besides its creator. */
export const authorOf = (k: number, users: number) => k % Math.min(AUTHORS, users);

/**
 * Markers spread over the last part of the channel: nine members in ten have read somewhere in
 * the newest 60 messages, the tenth is about 100 behind; each delivery marker is at or a little
 * past the read marker. So every message of the newest page has its own counts.
 */
function spreadMarkersOf(member: number, lastSeq: number): { read: number; delivered: number } {
  const spread = (member * 7919) % 60;
  const read = member % 10 === 0 ? Math.max(0, lastSeq - 100 - spread) : lastSeq - spread;
  return { read, delivered: Math.min(lastSeq, read + ((member * 104_729) % 20)) };
}

/** A member's markers once seeded: the spread above, or its own last message if that is further (sending moves them). */
export function markersOf(member: number, lastSeq: number, users: number): { read: number; delivered: number } {
  const { read, delivered } = spreadMarkersOf(member, lastSeq);
  const authors = Math.min(AUTHORS, users);
  const own = member < authors && lastSeq > member ? member + authors * Math.floor((lastSeq - 1 - member) / authors) + 1 : 0;
  return { read: Math.max(read, own), delivered: Math.max(delivered, read, own) };
}

export interface Receipt {
  seq: number;
  readCount: number;
  deliveredCount: number;
  status: 'SENT' | 'DELIVERED' | 'SEEN';
}

/** What the receipts of messages fromSeq..lastSeq must be (the creator, who reads, has markers at 0). */
export function expectedReceipts(members: number, lastSeq: number, fromSeq: number): Receipt[] {
  const users = members - 1;
  const markers = Array.from({ length: users }, (_, m) => markersOf(m, lastSeq, users));
  const receipts: Receipt[] = [];
  for (let seq = fromSeq; seq <= lastSeq; seq++) {
    const author = authorOf(seq - 1, users);
    let readCount = 0;
    let deliveredCount = 0;
    markers.forEach(({ read, delivered }, m) => {
      if (m === author) return;
      if (read >= seq) readCount++;
      if (delivered >= seq) deliveredCount++;
    });
    // Every member but the author: the creator and the other users.
    const others = users;
    const status = readCount >= others ? 'SEEN' : deliveredCount >= others ? 'DELIVERED' : 'SENT';
    receipts.push({ seq, readCount, deliveredCount, status });
  }
  return receipts;
}

export async function seedReceipts(store: Store, plan: Extract<SeedPlan, { kind: 'receipts' }>, report: Report): Promise<ReceiptsSeed> {
  const channels: ReceiptsSeed['channels'] = [];
  for (const members of plan.sizes) {
    const what = `receipts ${members} members`;
    const { org, general } = await createOrganization(store, `receipts-${members}`, BENCH_ADMIN);
    // The creator is a member too, and is the one who reads the page.
    const users = members - 1;
    await addUsers(store, org.id, users, what, report);
    let lastSeq = 0;
    for (let k = 0; k < plan.messages; k++) {
      const { message } = await store.appendMessage(draft(general.id, benchUser(authorOf(k, users)).id, `receipts message ${k}`, null));
      lastSeq = message.seq;
    }
    const tell = throttled(report);
    for (let m = 0; m < users; m++) {
      const { read, delivered } = markersOf(m, lastSeq, users);
      if (read > 0) await store.advanceReadMarker(general.id, benchUser(m).id, read);
      if (delivered > read) await store.advanceDeliveryMarker(general.id, benchUser(m).id, delivered);
      tell(() => `${what}: markers of ${m + 1}/${users} members`, m + 1 === users);
    }
    channels.push({ members, channelId: general.id, lastSeq });
  }
  return { channels };
}
