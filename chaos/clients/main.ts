// A chaos client process: plays one role (senders, listeners, or devices) against the servers'
// proxies, records everything, and writes its history when the run finishes. Driven over IPC by
// chaos/run.ts; exits when the parent goes away.
import { writeFileSync } from 'node:fs';
import { now, sleep } from '../../bench/lib/clock.ts';
import { ChannelMessagesDocument } from '../../operations/generated/graphql.ts';
import type { ClientHistory } from '../lib/history.ts';
import { Random } from '../lib/random.ts';
import { call } from './api.ts';
import { Device } from './device.ts';
import { ChannelListener } from './listener.ts';
import type { ClientSetup, FromClient, ToClient } from './messages.ts';
import { PresenceSubject, PresenceWatcher } from './presence.ts';
import { Sender } from './sender.ts';

const SENDER_AGENTS = 2;

const send = (message: FromClient) => process.send?.(message);

let setup: ClientSetup;
let rng: Random;
let going = false;
let giveUpAt = Number.POSITIVE_INFINITY;
const senders: Sender[] = [];
const listeners: ChannelListener[] = [];
const devices: Device[] = [];
const subjects: PresenceSubject[] = [];
const watchers: PresenceWatcher[] = [];
/** Senders' and markers' loops: what must settle before the run's final state is read. */
const runs: Promise<void>[] = [];
const lateTimers: NodeJS.Timeout[] = [];
let lateStarting = 0;

function counters(): Record<string, number> {
  const sends = senders.flatMap((s) => s.sends);
  const sessions = [...listeners.map((l) => l.history.sessions), ...devices.map((d) => d.history.sessions), ...watchers.map((w) => w.history.sessions)];
  return {
    sends: sends.length,
    acked: sends.filter((s) => s.ackAt !== null).length,
    retries: sends.reduce((n, s) => n + Math.max(0, s.attempts - 1), 0),
    rateLimited: sends.reduce((n, s) => n + s.failures.filter((f) => f.includes('RATE_LIMITED')).length, 0),
    deliveries: listeners.reduce((n, l) => n + l.history.deliveries.length, 0) + devices.reduce((n, d) => n + d.history.events.length, 0),
    marks: devices.reduce((n, d) => n + d.history.marks.length, 0),
    reconnects: sessions.reduce((n, s) => n + Math.max(0, s.length - 1), 0),
    presence: watchers.reduce((n, w) => n + w.history.observations.length, 0),
  };
}

/** The channel's newest seq now, as a client reads it before subscribing from there. */
async function newestSeq(channel: number, token: string): Promise<number> {
  const channelId = setup.world.channels[channel]!.gid;
  for (;;) {
    const answer = await call(rng.pick(setup.httpUrls), token, ChannelMessagesDocument, { channelId, last: 1 }, setup.timings.requestTimeoutMs);
    if (answer.ok) return answer.data.channel?.messages.edges[0]?.node.seq ?? 0;
    await sleep(300);
  }
}

function build(): void {
  const { world, wsUrls, httpUrls, timings, role } = setup;
  if (role === 'senders') {
    for (const { user, channels } of world.senders) {
      for (let agent = 0; agent < SENDER_AGENTS; agent++) {
        senders.push(new Sender(user, agent, channels, world, httpUrls, timings.requestTimeoutMs, rng.fork(`sender:${user}:${agent}`)));
      }
    }
  }
  if (role === 'listeners') {
    for (const listenerRole of world.listeners.filter((l) => l.startAt === 0)) {
      listeners.push(new ChannelListener(listenerRole, world, wsUrls, timings.idleMs, rng.fork(listenerRole.name), 0));
    }
  }
  if (role === 'devices') {
    for (const deviceRole of world.devices) {
      devices.push(new Device(deviceRole, world, wsUrls, httpUrls, timings.requestTimeoutMs, timings.idleMs, rng.fork(deviceRole.name)));
    }
    for (const { user, devices: count } of world.presence.subjects) {
      subjects.push(new PresenceSubject(user, count, world, wsUrls, timings, rng.fork(`subject:${user}`)));
    }
    world.presence.watchers.forEach((user, w) => {
      const subjectIds = world.presence.subjects.map((s) => s.user);
      watchers.push(new PresenceWatcher(`watcher${w}`, user, subjectIds, world, wsUrls, timings.requestTimeoutMs, timings.idleMs, rng.fork(`watcher:${user}`)));
    });
  }
}

/** Starts the connections and says ready once each has been acknowledged once. */
async function connect(): Promise<void> {
  for (const agent of [...listeners, ...devices, ...watchers]) agent.start();
  const connected = () => [...listeners, ...devices, ...watchers].every((a) => a.history.sessions.some((s) => s.readyAt !== null));
  const deadline = now() + 120_000;
  while (!connected() && now() < deadline) await sleep(100);
  send({ type: 'ready' });
}

function go(): void {
  going = true;
  const isGoing = () => going;
  for (const sender of senders) runs.push(sender.run(isGoing, () => giveUpAt));
  for (const device of devices) runs.push(device.markWhile(isGoing));
  for (const subject of subjects) void subject.cycle(isGoing);
  const { world, wsUrls, timings } = setup;
  if (setup.role === 'listeners') {
    for (const listenerRole of world.listeners.filter((l) => l.startAt > 0)) {
      lateStarting++;
      lateTimers.push(
        setTimeout(async () => {
          const from = await newestSeq(listenerRole.channel, world.users[listenerRole.user]!.token);
          const listener = new ChannelListener(listenerRole, world, wsUrls, timings.idleMs, rng.fork(listenerRole.name), from);
          listeners.push(listener);
          listener.start();
          lateStarting--;
        }, listenerRole.startAt),
      );
    }
  }
}

function stall(consumer: number, ms: number): void {
  const slow = [...listeners.filter((l) => l.history.slow === consumer), ...devices.filter((d) => d.history.slow === consumer)];
  const done = slow.some((agent) => agent.stall(ms));
  send({ type: 'stalled', consumer, done });
}

async function quiesce(giveUpInMs: number): Promise<void> {
  going = false;
  giveUpAt = now() + giveUpInMs;
  for (const timer of lateTimers) clearTimeout(timer);
  await Promise.all(runs);
  send({ type: 'drained' });
}

async function finish(lastSeqs: Record<number, number>, withinMs: number): Promise<void> {
  const deadline = now() + withinMs;
  const behind = () => [
    ...listeners.filter((l) => l.lastSeq < (lastSeqs[l.history.channel] ?? 0)).map((l) => `${l.history.name} at ${l.lastSeq}`),
    ...devices.filter((d) => !d.caughtUpWith(lastSeqs)).map((d) => d.history.name),
  ];
  while (behind().length > 0 && now() < deadline) await sleep(100);
  for (const listener of listeners) listener.history.caughtUp = listener.lastSeq >= (lastSeqs[listener.history.channel] ?? 0);
  for (const device of devices) device.history.caughtUp = device.caughtUpWith(lastSeqs);
  await Promise.all(devices.map((device) => device.readFinalBadges(now() + 20_000)));
  const stillBehind = behind();
  await Promise.all([...listeners, ...devices, ...watchers, ...subjects].map((agent) => agent.stop()));
  const history: ClientHistory = {
    role: setup.role,
    sends: senders.flatMap((s) => s.sends),
    listeners: listeners.map((l) => l.history),
    devices: devices.map((d) => d.history),
    subjects: subjects.map((s) => s.history),
    watchers: watchers.map((w) => w.history),
  };
  writeFileSync(setup.historyFile, JSON.stringify(history));
  send({ type: 'finished', caughtUp: stillBehind.length === 0 && lateStarting === 0, behind: stillBehind });
  process.exit(0);
}

process.on('message', (message: ToClient) => {
  switch (message.type) {
    case 'setup':
      setup = message.setup;
      rng = new Random(setup.seed).fork(`client:${setup.role}`);
      build();
      setInterval(() => send({ type: 'progress', counters: counters() }), 2000).unref();
      void connect();
      break;
    case 'go':
      go();
      break;
    case 'stall':
      stall(message.consumer, message.ms);
      break;
    case 'quiesce':
      void quiesce(message.giveUpInMs);
      break;
    case 'finish':
      void finish(message.lastSeqs, message.withinMs);
      break;
  }
});

// Never outlive the parent.
process.on('disconnect', () => process.exit(0));
