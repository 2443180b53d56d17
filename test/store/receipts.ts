// Read receipts against a count made by hand: per message, the other members whose delivery / read
// marker has reached it, from listChannelMembers. Used by the store contract and by the start-up
// fill tests of each store.
import { expect } from 'vitest';
import type { Message } from '../../src/domain/types.ts';
import type { ChannelMember } from '../../src/domain/types.ts';
import type { Reach, ReachKey, Store } from '../../src/store/store.ts';
import { draft, groupChannel, organization, tick, user } from './fixtures.ts';

const PAGE = 100;

async function everyMember(store: Store, channelId: string): Promise<ChannelMember[]> {
  const members: ChannelMember[] = [];
  for (let page = await store.listChannelMembers(channelId, null, PAGE); page.length > 0; ) {
    members.push(...page);
    page = page.length < PAGE ? [] : await store.listChannelMembers(channelId, page.at(-1)!.userId, PAGE);
  }
  return members;
}

async function everyMessage(store: Store, channelId: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (let page = await store.findMessagesByChannel(channelId, { limit: PAGE }); page.length > 0; ) {
    messages.push(...page);
    page = page.length < PAGE ? [] : await store.findMessagesByChannel(channelId, { afterSeq: page.at(-1)!.seq, limit: PAGE });
  }
  return messages;
}

/** Per message of the channels, its key and its reach counted member by member. */
export async function countedByHand(store: Store, channelIds: readonly string[]): Promise<{ key: ReachKey; reach: Reach }[]> {
  const counted = [];
  for (const channelId of channelIds) {
    const members = await everyMember(store, channelId);
    for (const { seq, authorId } of await everyMessage(store, channelId)) {
      const others = members.filter((m) => m.userId !== authorId);
      counted.push({
        key: { channelId, seq, authorId },
        reach: { delivered: others.filter((m) => m.lastDeliveredSeq >= seq).length, read: others.filter((m) => m.lastReadSeq >= seq).length },
      });
    }
  }
  return counted;
}

/** countReach for every message of the channels, in one batch and in reverse order, equals the count by hand. */
export async function expectExactReceipts(store: Store, channelIds: readonly string[]): Promise<void> {
  const counted = await countedByHand(store, channelIds);
  expect(counted.length).toBeGreaterThan(0);
  expect(await store.countReach(counted.map((c) => c.key))).toEqual(counted.map((c) => c.reach));
  const reversed = [...counted].reverse();
  expect(await store.countReach(reversed.map((c) => c.key))).toEqual(reversed.map((c) => c.reach));
}

/** A small deterministic random number generator (mulberry32), so a failing run can be replayed. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An organization's #general and a group channel living a while: sends by several authors (mostly
 * two talkers, so the others' markers trail behind and spread out), reads and delivery acks on
 * several members (forwards and backwards), members joining late (through the organization, then
 * the channel; two sleepers never move their markers after joining) and leaving. Calls
 * check(channelIds) every checkEvery steps and at the end.
 */
export async function liveChannels(
  store: Store,
  steps: number,
  check: (channelIds: readonly string[]) => Promise<void>,
  checkEvery = steps,
): Promise<void> {
  const people = [];
  for (const name of ['ann', 'bob', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal', 'ivy']) people.push((await user(store, name)).id);
  const talkers = people.slice(0, 2);
  const sleepers = people.slice(-2);
  const { org, general } = await organization(store, people[0]!);
  const inOrg = new Set([people[0]!]);
  const room = groupChannel(org.id, 'receipts');
  await store.createChannel(room, people.slice(0, 6));
  const members = new Map([
    [general.id, new Set([people[0]!])],
    [room.id, new Set(people.slice(0, 6))],
  ]);
  const lastSeq = new Map([[general.id, 0], [room.id, 0]]);
  const random = randomFrom(14);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  for (let step = 1; step <= steps; step++) {
    const channelId = random() < 0.65 ? room.id : general.id;
    const present = [...members.get(channelId)!];
    const awake = present.filter((id) => !sleepers.includes(id));
    const absent = people.filter((id) => !members.get(channelId)!.has(id));
    const newest = lastSeq.get(channelId)!;
    const roll = random();
    if (roll < 0.55) {
      const talking = present.filter((id) => talkers.includes(id));
      const author = random() < 0.95 && talking.length > 0 ? pick(talking) : pick(awake);
      const { message } = await store.appendMessage(draft(channelId, author, `m${step}`));
      lastSeq.set(channelId, message.seq);
    } else if (roll < 0.67) {
      // Anywhere up to the newest: often behind the member's marker already, which must not move it back.
      await store.advanceReadMarker(channelId, pick(awake), Math.floor(random() * (newest + 1)));
    } else if (roll < 0.88) {
      // Delivery runs just behind the newest message, ahead of reading.
      await store.advanceDeliveryMarker(channelId, pick(awake), Math.max(0, newest - Math.floor(random() * 8)));
    } else if (roll < 0.95 && absent.length > 0) {
      const joining = pick(absent);
      const viaOrg = channelId === general.id && !inOrg.has(joining);
      if (viaOrg) expect(await store.addOrgMember(org.id, joining, tick())).toBe(true);
      else expect(await store.addChannelMember(channelId, joining, tick())).not.toBeNull();
      inOrg.add(joining);
      members.get(channelId)!.add(joining);
    } else if (awake.length > 2) {
      const leaving = pick(present.length > awake.length && random() < 0.3 ? present : awake);
      expect(await store.removeChannelMember(channelId, leaving)).toBe(true);
      members.get(channelId)!.delete(leaving);
    }
    if (step % checkEvery === 0 || step === steps) await check([general.id, room.id]);
  }
}
