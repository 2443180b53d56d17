// Channel feeds on the in-process bus and a real SQLite store: whatever order, repeats or losses
// the bus hands them, each listener gets its channel's messages in seq order, each once.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/domain/types.ts';
import { createLogger } from '../../src/logger.ts';
import { InProcessBus } from '../../src/realtime/bus.ts';
import { topics } from '../../src/realtime/events.ts';
import { ChannelFeeds } from '../../src/realtime/feeds.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { tempDir } from '../support/server.ts';
import { seqsUpTo, waitUntil } from '../support/wait.ts';
import { quietFor } from '../support/client.ts';
import { draft, organization, user } from '../store/fixtures.ts';

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
/** A gap wait no test outlasts: ordering must come from holding early messages, not from the store. */
const NEVER = 600_000;

let temp: ReturnType<typeof tempDir>;
let store: SqliteStore;
let authorId: string;
const opened: { bus: InProcessBus; feeds: ChannelFeeds }[] = [];

beforeAll(async () => {
  temp = tempDir();
  store = new SqliteStore(`${temp.dir}/chat.db`);
  authorId = (await user(store, 'ann')).id;
});
afterEach(async () => {
  for (const { bus, feeds } of opened.splice(0)) {
    await feeds.close();
    await bus.close();
  }
});
afterAll(async () => {
  await store.close();
  temp.remove();
});

function openFeeds(gapFillMs: number) {
  const bus = new InProcessBus();
  const feeds = new ChannelFeeds(bus, store, gapFillMs, logger);
  opened.push({ bus, feeds });
  return { bus, feeds };
}

/** A new channel (an organization's #general). */
async function newChannel(): Promise<string> {
  return (await organization(store, authorId)).general.id;
}

/** Stores n messages in the channel (as sendMessage does, without publishing them). */
async function storeMessages(channelId: string, n: number): Promise<Message[]> {
  const stored: Message[] = [];
  for (let i = 0; i < n; i++) stored.push((await store.appendMessage(draft(channelId, authorId, `m${stored.length}`))).message);
  return stored;
}

/** What one listener receives. */
function collector() {
  const received: Message[] = [];
  return { received, seqs: () => received.map((m) => m.seq), listener: received };
}

/** A repeatable shuffle (mulberry32), so a failure can be replayed. */
function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('a channel feed', () => {
  it('holds a message that comes early and hands everything out in seq order', async () => {
    const { bus, feeds } = openFeeds(NEVER);
    const channelId = await newChannel();
    const ann = collector();
    const position = await feeds.attach(channelId, ann.listener);
    expect(position).toBe(0);
    const messages = await storeMessages(channelId, 6);
    for (const index of [2, 0, 1, 5, 4, 3]) await bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: messages[index]! });
    await waitUntil(() => ann.received.length >= 6, 'six messages');
    expect(ann.seqs()).toEqual(seqsUpTo(6));
    expect(ann.received.map((m) => m.text)).toEqual(messages.map((m) => m.text));
  });

  it('drops a message it has delivered already', async () => {
    const { bus, feeds } = openFeeds(NEVER);
    const channelId = await newChannel();
    const ann = collector();
    await feeds.attach(channelId, ann.listener);
    const messages = await storeMessages(channelId, 3);
    const order = [0, 0, 1, 0, 2, 1, 2, 2];
    for (const index of order) await bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: messages[index]! });
    await waitUntil(() => ann.received.length >= 3, 'three messages');
    // Nothing more is on its way: every repeat has been published already, and none may come out.
    await quietFor(50);
    expect(ann.seqs()).toEqual(seqsUpTo(3));
  });

  it('reads from the store a message the bus lost, once the gap has waited long enough', async () => {
    const { bus, feeds } = openFeeds(30);
    const channelId = await newChannel();
    const ann = collector();
    await feeds.attach(channelId, ann.listener);
    const messages = await storeMessages(channelId, 5);
    // 2 and 3 are never published; 4 arrives and waits for them.
    for (const index of [0, 3]) await bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: messages[index]! });
    await waitUntil(() => ann.received.length >= 4, 'the gap filled from the store');
    expect(ann.seqs().slice(0, 4)).toEqual(seqsUpTo(4));
    expect(ann.received[1]).toEqual(messages[1]);
    await bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: messages[4]! });
    await waitUntil(() => ann.received.length >= 5, 'the fifth message');
    expect(ann.seqs()).toEqual(seqsUpTo(5));
  });

  it('starts where the channel is: what was sent before is not handed out again', async () => {
    const { bus, feeds } = openFeeds(30);
    const channelId = await newChannel();
    const before = await storeMessages(channelId, 3);
    const ann = collector();
    const position = await feeds.attach(channelId, ann.listener);
    expect(position).toBe(before.length);
    // A late copy of an old message (another process publishing slowly) is not news.
    await bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: before[1]! });
    const [next] = await storeMessages(channelId, 1);
    await bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: next! });
    await waitUntil(() => ann.received.length >= 1, 'the new message');
    await quietFor(50);
    expect(ann.seqs()).toEqual([before.length + 1]);
  });

  it('serves every local listener of a channel from one feed, and closes it with the last one', async () => {
    const { bus, feeds } = openFeeds(NEVER);
    const channelId = await newChannel();
    const [ann, bob] = [collector(), collector()];
    await feeds.attach(channelId, ann.listener);
    const [m1, m2] = await storeMessages(channelId, 2);
    await bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: m1! });
    await waitUntil(() => ann.received.length >= 1, 'the first message');
    // Bob joins the same feed where it stands and gets what comes next.
    expect(await feeds.attach(channelId, bob.listener)).toBe(1);
    expect(feeds.size).toBe(1);
    await bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: m2! });
    await waitUntil(() => ann.received.length >= 2 && bob.received.length >= 1, 'the second message for both');
    expect(ann.seqs()).toEqual([1, 2]);
    expect(bob.seqs()).toEqual([2]);
    await feeds.detach(channelId, ann.listener);
    expect(feeds.size).toBe(1);
    await feeds.detach(channelId, bob.listener);
    expect(feeds.size).toBe(0);
  });

  it('delivers 1..n exactly once through shuffling, repeats and losses', async () => {
    const { bus, feeds } = openFeeds(20);
    const channelId = await newChannel();
    const listeners = [collector(), collector(), collector()];
    for (const l of listeners) await feeds.attach(channelId, l.listener);
    const messages = await storeMessages(channelId, 200);
    // Every fifth message is lost, every third comes twice; all of it in a shuffled order.
    const published = messages.filter((m) => m.seq % 5 !== 0).flatMap((m) => (m.seq % 3 === 0 ? [m, m] : [m]));
    const order = shuffled(published, 7);
    for (let i = 0; i < order.length; i++) {
      await bus.publish(topics.channel(channelId), { kind: 'messageAdded', message: order[i]! });
      if (i % 40 === 39) await new Promise((r) => setTimeout(r, 5)); // arrivals spread over time
    }
    for (const l of listeners) await waitUntil(() => l.received.length >= messages.length, 'every message');
    await quietFor(50);
    for (const l of listeners) expect(l.seqs()).toEqual(messages.map((m) => m.seq));
  });
});
