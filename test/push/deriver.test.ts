// The outbox's deriver on a real SQLite store: deciding an @channel in a large channel in bounded
// units, resuming after a crash part-way without queuing anyone twice, finding in the log what no
// process decided, and two processes deciding one channel.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import type { PushOutboxEntry, QueuedPush } from '../../src/domain/push.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { OutboxDeriver } from '../../src/push/deriver.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { draft, groupChannel, organization, user } from '../store/fixtures.ts';
import { waitUntil } from '../support/wait.ts';

const config = loadConfig({ PUSH_DELAY_MS: '0' }).push;
const logger = createLogger('silent');

/** The store as a deriver sees it, recording each unit it queues (and failing from the nth on, as a crash would). */
function recording(store: Store, failFrom = Infinity) {
  const units: number[] = [];
  const wrapped = Object.create(store) as Store;
  wrapped.queuePushNotifications = async (channelId, from, to, entries: readonly QueuedPush[]) => {
    if (units.length + 1 >= failFrom) throw new Error('the process died');
    const queued = await store.queuePushNotifications(channelId, from, to, entries);
    if (queued) units.push(entries.length);
    return queued;
  };
  return { store: wrapped, units };
}

function deriverOn(store: Store, owner = 'process-a') {
  const metrics = createMetrics();
  const deriver = new OutboxDeriver(store, config, metrics.push, logger, owner);
  const queued = async () => (await metrics.push.queued.get()).values[0]?.value ?? 0;
  return { deriver, queued };
}

/** Everything due in the outbox now, claimed once. */
async function claimAll(store: Store): Promise<PushOutboxEntry[]> {
  const entries: PushOutboxEntry[] = [];
  for (;;) {
    const batch = await store.claimPushNotifications('test', new Date(Date.now() + 1000), new Date(Date.now() + 60_000), 1000);
    if (batch.length === 0) return entries;
    entries.push(...batch);
  }
}

describe('outbox deriver', () => {
  let dir: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'push-deriver-'));
    store = new SqliteStore(join(dir, 'chat.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A channel of `size` members, all but the last tenth with a registered device, and its author. */
  async function bigChannel(size: number) {
    const author = await user(store, 'author');
    const { org } = await organization(store, author.id);
    const memberIds = Array.from({ length: size - 1 }, (_, i) => `member-${String(i).padStart(6, '0')}`);
    const channel = groupChannel(org.id, 'general-big');
    await store.createChannel(channel, [author.id, ...memberIds]);
    const registered = memberIds.slice(0, Math.floor(memberIds.length * 0.9));
    for (const userId of [author.id, ...registered]) {
      await store.savePushRegistration({ id: `reg-${userId}`, userId, deviceId: 'phone', createdAt: new Date(), kind: 'PUSHER', url: 'https://gw.example/_matrix/push/v1/notify', appId: 'app', pushkey: `key-${userId}` }, 10);
    }
    return { author, channel, registered };
  }

  it('decides an @channel in a large channel in bounded units, everyone registered but the author once', async () => {
    const { author, channel, registered } = await bigChannel(2600);
    await store.appendMessage(draft(channel.id, author.id, '@channel all hands at 3', { mentionsChannel: true, sentAt: new Date() }));
    const { store: seen, units } = recording(store);
    const { deriver } = deriverOn(seen);
    deriver.notify(channel.id);
    await waitUntil(async () => (await store.findPushCursors([channel.id]))[0]?.seq === 1, 'the message to be decided');
    expect(units.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...units)).toBeLessThanOrEqual(1000);
    const entries = await claimAll(store);
    expect(entries.map((e) => e.userId).sort()).toEqual([...registered].sort());
    deriver.close();
  });

  it('resumes a large channel where a process that died part-way left it, queuing nobody twice', async () => {
    const { author, channel, registered } = await bigChannel(2600);
    await store.appendMessage(draft(channel.id, author.id, '@channel fire drill', { mentionsChannel: true, sentAt: new Date() }));
    const dying = deriverOn(recording(store, 2).store, 'dies');
    dying.deriver.notify(channel.id);
    await waitUntil(async () => (await store.findPushCursors([channel.id]))[0]?.memberAfter != null, 'the first unit');
    await waitUntil(async () => (await dying.queued()) > 0, 'the first unit to be counted');
    dying.deriver.close();
    const cursor = (await store.findPushCursors([channel.id]))[0]!;
    expect(cursor.seq).toBe(0);

    const next = deriverOn(store, 'next');
    next.deriver.notify(channel.id);
    await waitUntil(async () => (await store.findPushCursors([channel.id]))[0]?.seq === 1, 'the rest');
    expect((await dying.queued()) + (await next.queued())).toBe(registered.length);
    expect((await claimAll(store)).length).toBe(registered.length);
    next.deriver.close();
  });

  it('finds in the log, from the scan mark, messages that no process decided', async () => {
    const ann = await user(store, 'ann');
    const bob = await user(store, 'bob');
    await store.savePushRegistration({ id: 'reg-bob', userId: bob.id, deviceId: 'phone', createdAt: new Date(), kind: 'PUSHER', url: 'https://gw.example/n', appId: 'app', pushkey: 'k' }, 10);
    const { org } = await organization(store, ann.id);
    const channel = groupChannel(org.id, 'quiet');
    await store.createChannel(channel, [ann.id, bob.id]);
    await store.appendMessage(draft(channel.id, ann.id, 'no mention', { sentAt: new Date() }));
    await store.appendMessage(draft(channel.id, ann.id, 'hey @bob', { mentions: [bob.id], sentAt: new Date() }));

    const { deriver, queued } = deriverOn(store);
    await deriver.scan();
    await waitUntil(async () => (await store.findPushCursors([channel.id]))[0]?.seq === 2, 'the scan to decide the channel');
    expect(await queued()).toBe(1);
    expect((await claimAll(store)).map((e) => [e.userId, e.channelId, e.seq])).toEqual([[bob.id, channel.id, 2]]);
    await deriver.scan();
    expect(await queued()).toBe(1);
    deriver.close();
  });

  it('does not notify about what was sent long before notifications were first decided', async () => {
    const { author, channel } = await bigChannel(3);
    await store.appendMessage(draft(channel.id, author.id, '@channel an old announcement', { mentionsChannel: true, sentAt: new Date(Date.now() - 3_600_000) }));
    const { deriver, queued } = deriverOn(store);
    deriver.notify(channel.id);
    await waitUntil(async () => (await store.findPushCursors([channel.id]))[0]?.seq === 1, 'the channel to be looked at');
    expect(await queued()).toBe(0);
    await store.appendMessage(draft(channel.id, author.id, '@channel a new one', { mentionsChannel: true, sentAt: new Date() }));
    deriver.notify(channel.id);
    await waitUntil(async () => (await store.findPushCursors([channel.id]))[0]?.seq === 2, 'the new message to be decided');
    expect((await claimAll(store)).map((e) => e.seq)).toEqual([2]);
    deriver.close();
  });

  it('queues each message once when two processes decide the same channel at once', async () => {
    const { author, channel, registered } = await bigChannel(1500);
    for (let i = 0; i < 3; i++) await store.appendMessage(draft(channel.id, author.id, `@channel update ${i}`, { mentionsChannel: true, sentAt: new Date() }));
    const a = deriverOn(store, 'a');
    const b = deriverOn(store, 'b');
    a.deriver.notify(channel.id);
    b.deriver.notify(channel.id);
    await waitUntil(async () => (await store.findPushCursors([channel.id]))[0]?.seq === 3, 'all three decided');
    await waitUntil(async () => (await a.queued()) + (await b.queued()) === 3 * registered.length, 'every unit counted');
    expect((await claimAll(store)).map((e) => e.seq)).toEqual(registered.map(() => 3));
    a.deriver.close();
    b.deriver.close();
  });
});
