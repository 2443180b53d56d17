// Two real server processes sharing one Redis and one SQLite file, as a deployment runs them:
// messages sent on both at once reach listeners on both in order, each once; viewerEvents follows
// the viewer across processes; Redis restarting loses nothing (and /ready says so meanwhile); a
// listener whose process is killed resumes on the other one with afterSeq and misses nothing.
// One pair of processes serves every test (starting them is the slow part); the kill comes last.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import {
  AddChannelMemberDocument,
  AppOpenDocument,
  CreateOrganizationDocument,
  MarkChannelReadDocument,
  RemoveChannelMemberDocument,
  SendMessageDocument,
} from '../../operations/generated/graphql.ts';
import { quietFor } from '../support/client.ts';
import type { ServerProcess } from '../support/server.ts';
import { seqsUpTo, waitUntil } from '../support/wait.ts';
import { type Member, channelOf, organizationWith, send, signInUsers } from '../support/world.ts';
import {
  type Cluster,
  closeDevices,
  inSeqOrder,
  listen,
  readiness,
  sendAll,
  startCluster,
  via,
  waitForSubscriptions,
  watchViewerEvents,
} from './cluster.ts';

let cluster: Cluster;
let p1: ServerProcess;
let p2: ServerProcess;

/** Messages one user may send per 10 s, across the processes. */
const SEND_RATE_LIMIT = 100;
/** Organizations one user may create per hour, across the processes. */
const ORGANIZATION_RATE_LIMIT = 4;

beforeAll(async () => {
  cluster = await startCluster(2, { SEND_RATE_LIMIT: String(SEND_RATE_LIMIT), ORGANIZATION_RATE_LIMIT: String(ORGANIZATION_RATE_LIMIT) });
  [p1, p2] = cluster.processes as [ServerProcess, ServerProcess];
}, 150_000);
afterAll(async () => cluster?.stop());
beforeEach(({ onTestFailed }) => onTestFailed(() => console.error(cluster.logs())));
afterEach(async () => {
  if (redisDown) await startRedisAgain(); // a failed test may have left it stopped
  await closeDevices(cluster.processes);
});

const NOT_OURS = 'REDIS_URL names a Redis these tests do not own, and they will not stop it: unset REDIS_URL to run them';
let redisDown = false;
async function stopRedis() {
  redisDown = true;
  await cluster.redis.stop();
}
async function startRedisAgain() {
  await cluster.redis.start();
  redisDown = false;
  // The processes reconnect after a backoff of up to a second: the next test starts once they have.
  for (const server of cluster.processes) {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      await waitUntil(async () => (await readiness(server)).status === 200, 'the process to be back on Redis');
    }
  }
}

describe('two processes sharing Redis and the store', () => {
  it('four senders on both processes at once: every listener on either gets seq 1..200 in order, once', async () => {
    const world = await organizationWith(p1.url, ['ann', 'bob', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal']);
    const { ann, bob, cat, dan, eve, fay, gus, hal } = world.users;
    const channelId = await channelOf(world, ann!, 'launch', [bob!, cat!, dan!, eve!, fay!, gus!, hal!]);

    const listeners = [listen(p1, eve!, channelId), listen(p2, fay!, channelId), listen(p2, gus!, channelId)];
    await waitForSubscriptions([[p1, 1], [p2, 2]]);

    const senders = [ann!, via(p2, bob!), cat!, via(p2, dan!)];
    const perSender = 50;
    const sending = senders.map((sender) =>
      sendAll(sender, channelId, Array.from({ length: perSender }, (_, i) => `${sender.sub} #${i}`), 5),
    );
    // Hal opens the channel while messages are flowing, from the start of its history.
    const late = listen(p1, hal!, channelId, 0);
    const stored = (await Promise.all(sending)).flat();
    const total = senders.length * perSender;

    expect(stored.map((m) => m.seq).sort((a, b) => a - b)).toEqual(seqsUpTo(total));
    const expected = inSeqOrder(stored);
    for (const listener of [...listeners, late]) {
      await listener.subscription.waitFor(total, 30_000);
    }
    await quietFor(300); // nothing may follow: no message twice
    for (const listener of [...listeners, late]) {
      expect(listener.messages().map((m) => ({ seq: m.seq, text: m.text }))).toEqual(expected);
    }
  });

  it('viewerEvents on one process hears joins, reads and leaves made on the other', async () => {
    const world = await organizationWith(p1.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const bobOnP2 = via(p2, bob!);
    const annOnP2 = via(p2, ann!); // Ann's laptop; her phone listens on p1
    const { subscription: events, ofKind } = watchViewerEvents(p1, ann!);
    await waitForSubscriptions([[p1, 1]]);
    const waitFor = (what: string, condition: () => boolean) => waitUntil(() => events.errors.length > 0 || condition(), what);

    // Bob (on p2) makes a channel without Ann, then adds her: her phone (on p1) hears it and follows the channel.
    const designId = await channelOf(world, bobOnP2, 'design', []);
    await bobOnP2.run(AddChannelMemberDocument, { input: { channelId: designId, userId: ann!.id } });
    await waitFor('the join', () => ofKind('ChannelMembershipEvent').length >= 1);
    expect(ofKind('ChannelMembershipEvent')).toMatchObject([{ joined: true, channel: { id: designId, name: 'design' } }]);

    const first = await send(bobOnP2, designId, 'welcome to design');
    await waitFor('the message in the new channel', () => ofKind('MessageAddedEvent').length >= 1);
    expect(ofKind('MessageAddedEvent')).toMatchObject([
      { message: { id: first.id, seq: 1, text: 'welcome to design' }, channel: { id: designId, unreadCount: 1 } },
    ]);

    // Ann reads it on her laptop (p2): the phone's badge clears.
    await annOnP2.run(MarkChannelReadDocument, { input: { channelId: designId } });
    await waitFor('the read marker', () => ofKind('ChannelReadEvent').length >= 1);
    expect(ofKind('ChannelReadEvent')).toMatchObject([{ channel: { id: designId, lastReadSeq: 1, unreadCount: 0, hasUnread: false } }]);

    // Bob removes her: the phone hears it, and the channel's later messages no longer reach it.
    await bobOnP2.run(RemoveChannelMemberDocument, { input: { channelId: designId, userId: ann!.id } });
    await waitFor('the leave', () => ofKind('ChannelMembershipEvent').length >= 2);
    expect(ofKind('ChannelMembershipEvent')[1]).toMatchObject({ joined: false, channel: { id: designId } });
    await send(bobOnP2, designId, 'after ann left');
    const general = await send(bobOnP2, world.generalId, 'still in general');
    await waitFor('the message in #general', () => ofKind('MessageAddedEvent').length >= 2);
    await quietFor(300);
    expect(events.errors).toEqual([]);
    expect(ofKind('MessageAddedEvent').map((e) => [e.channel.id, e.message.text])).toEqual([
      [designId, 'welcome to design'],
      [world.generalId, general.text],
    ]);
  });
});

describe('the send rate across processes', () => {
  it('counts a user sending through both processes against one limit; refused sends store nothing', async () => {
    const world = await organizationWith(p1.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const onP2 = via(p2, ann!);
    const half = SEND_RATE_LIMIT / 2;
    await sendAll(ann!, world.generalId, Array.from({ length: half }, (_, i) => `p1 #${i}`), 5);
    await sendAll(onP2, world.generalId, Array.from({ length: half }, (_, i) => `p2 #${i}`), 5);

    for (const sender of [ann!, onP2]) {
      const refused = await sender.request(SendMessageDocument, { input: { channelId: world.generalId, text: 'one too many' } });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    }
    // Bob has his own allowance; the refused sends took no seq.
    expect((await send(via(p2, bob!), world.generalId, 'bob is fine')).seq).toBe(SEND_RATE_LIMIT + 1);
  });
});

describe('the other write limits across processes', () => {
  const createOrganization = (member: Member, name: string) => member.request(CreateOrganizationDocument, { input: { name } });
  const organizationsOf = async (member: Member) => (await member.run(AppOpenDocument, {})).me.organizations.edges.length;

  it('counts new organizations made through both processes against one allowance, in Redis keys grouped by user', async () => {
    const { ann, bob } = await signInUsers(p1.url, ['ann', 'bob']);
    for (let i = 0; i < ORGANIZATION_RATE_LIMIT; i++) expect((await createOrganization(i % 2 ? via(p2, ann!) : ann!, `Org ${i}`)).errors).toBeUndefined();
    for (const sender of [ann!, via(p2, ann!)]) {
      const refused = await createOrganization(sender, 'one too many');
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    }
    expect(await organizationsOf(via(p2, ann!))).toBe(ORGANIZATION_RATE_LIMIT);
    expect((await createOrganization(via(p2, bob!), 'Bob Co')).errors).toBeUndefined();
    // One user's counters share a hash tag, so a Redis Cluster keeps them in one slot.
    const redis = new Redis(cluster.redis.url);
    try {
      expect(await redis.keys(`ratelimit:{${ann!.sub}}:*`)).toEqual([`ratelimit:{${ann!.sub}}:organization`]);
    } finally {
      redis.disconnect();
    }
  });

  it('while Redis is down, counts in each process by itself instead of refusing every write', async ({ skip }) => {
    if (!cluster.redis.owned) skip(NOT_OURS);
    const { ann } = await signInUsers(p1.url, ['ann']);
    await stopRedis();
    for (let i = 0; i < ORGANIZATION_RATE_LIMIT; i++) expect((await createOrganization(ann!, `Org ${i}`)).errors).toBeUndefined();
    expect((await createOrganization(ann!, 'one too many')).errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect((await createOrganization(via(p2, ann!), 'on the other process')).errors).toBeUndefined();
    await startRedisAgain();
    expect(await organizationsOf(ann!)).toBe(ORGANIZATION_RATE_LIMIT + 1);
  });
});

describe('when Redis restarts', () => {
  it('/ready answers 503 while Redis is down and 200 once it is back; sends keep working', async ({ skip }) => {
    if (!cluster.redis.owned) skip(NOT_OURS);
    const world = await organizationWith(p1.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    for (const server of [p1, p2]) expect((await readiness(server)).status).toBe(200);

    await stopRedis();
    for (const server of [p1, p2]) {
      await waitUntil(async () => (await readiness(server)).status === 503, 'a 503 from /ready');
      expect((await readiness(server)).body).toMatchObject({ ready: false, bus: 'redis down', store: 'sqlite up' });
    }
    // Sending does not depend on Redis: the message is stored and numbered.
    const during = [await send(ann!, world.generalId, 'redis is down'), await send(via(p2, bob!), world.generalId, 'still here')];
    expect(during.map((m) => m.seq)).toEqual([1, 2]);

    await startRedisAgain();
    for (const server of [p1, p2]) await waitUntil(async () => (await readiness(server)).status === 200, 'a 200 from /ready');
    expect((await readiness(p1)).body).toMatchObject({ ready: true, bus: 'redis up' });
  });

  it('a conversation goes on while Redis restarts; every listener gets every message once, in order', async ({ skip }) => {
    if (!cluster.redis.owned) skip(NOT_OURS);
    const world = await organizationWith(p1.url, ['ann', 'bob', 'cat', 'dan', 'eve']);
    const { ann, bob, cat, dan, eve: eveUser } = world.users;
    const channelId = await channelOf(world, ann!, 'standup', [bob!, cat!, dan!, eveUser!]);
    const listeners = [listen(p1, cat!, channelId), listen(p2, dan!, channelId)];
    const eve = watchViewerEvents(p2, eveUser!);
    await waitForSubscriptions([[p1, 1], [p2, 2]]);
    const eveMessages = () => eve.ofKind('MessageAddedEvent').flatMap((e) => (e.channel.id === channelId ? [e.message] : []));

    // Ann (on p1) and Bob (on p2) take turns; Redis is stopped after the 20th message and started after the 40th.
    const speakers = [ann!, via(p2, bob!)];
    const total = 60;
    const sent: string[] = [];
    for (let i = 0; i < total; i++) {
      if (i === 20) await stopRedis();
      if (i === 40) await startRedisAgain();
      const message = await send(speakers[i % 2]!, channelId, `line ${i}`);
      sent[message.seq - 1] = message.text;
      await new Promise((r) => setTimeout(r, 10));
    }

    for (const listener of listeners) await listener.subscription.waitFor(total, 30_000);
    await waitUntil(() => eveMessages().length >= total || eve.subscription.errors.length > 0, 'every message on viewerEvents', { timeoutMs: 30_000 });
    await quietFor(300);
    for (const listener of listeners) {
      expect(listener.seqs()).toEqual(seqsUpTo(total));
      expect(listener.messages().map((m) => m.text)).toEqual(sent);
    }
    expect(eve.subscription.errors).toEqual([]);
    expect(eveMessages().map((m) => m.seq)).toEqual(seqsUpTo(total));
  });
});

describe('when a process dies', () => {
  // Last: it kills p1.
  it('a listener whose process is killed resumes on the other with afterSeq and has every message once', async () => {
    const world = await organizationWith(p2.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const channelId = await channelOf(world, bob!, 'ops', [ann!, cat!]);
    const onP1 = listen(p1, ann!, channelId);
    await waitForSubscriptions([[p1, 1]]);

    // Bob talks through p2. Cat talks through p1 and, when p1 is gone, retries on p2 with the
    // same clientMessageId, as a client does when it cannot tell whether its send was stored.
    const sent = new Set<string>();
    let stopSending = false;
    const bobTalks = (async () => {
      for (let i = 0; !stopSending; i++) {
        await send(bob!, channelId, `bob ${i}`);
        sent.add(`bob ${i}`);
      }
    })();
    const catTalks = (async () => {
      for (let i = 0; !stopSending; i++) {
        const input = { channelId, text: `cat ${i}`, clientMessageId: `cat-${i}` };
        const stored = await via(p1, cat!).run(SendMessageDocument, { input }).catch(() => via(p2, cat!).run(SendMessageDocument, { input }));
        sent.add(stored.sendMessage.text);
      }
    })();

    await onP1.subscription.waitFor(20, 30_000);
    await p1.kill();
    await onP1.subscription.settled();
    expect(onP1.subscription.completed || onP1.subscription.errors.length > 0).toBe(true);
    const before = onP1.messages();
    expect(before.map((m) => m.seq)).toEqual(seqsUpTo(before.length));

    // Ann's app reconnects to the surviving process and asks for what came after its last message.
    const onP2 = listen(p2, ann!, channelId, before.at(-1)!.seq);
    await onP2.subscription.waitFor(10, 30_000);
    stopSending = true;
    await Promise.all([bobTalks, catTalks]);

    const total = sent.size;
    await waitUntil(() => before.length + onP2.messages().length >= total, `all ${total} messages`);
    await quietFor(300);
    const all = [...before, ...onP2.messages()];
    expect(all.map((m) => m.seq)).toEqual(seqsUpTo(total));
    expect(all.map((m) => m.text).sort()).toEqual([...sent].sort());
  });
});
