// A load-generator process: opens `count` WebSocket subscribers to one system, then notes when
// each round's message reaches them and reports the LAST arrival time to the parent over IPC.
// Started by fleet.ts with an IPC channel; exits on 'close' or when the parent goes away.
import WebSocket from 'ws';
import type { ViewerEventsSubscription } from '../../operations/generated/graphql.ts';
import { now, sleep } from '../lib/clock.ts';
import type { BadgeCheck, FromClient, InitMessage, ToClient } from './messages.ts';
import { protocols } from './protocols.ts';

const RETRIES = 2;

const sockets = new Set<WebSocket>();
let live = 0; // subscribed and still open
let failed = 0;
let lastError: string | undefined;

// The armed round: frames containing `marker` count; `done` is sent once all live subscribers have one.
let round = -1;
let marker: Buffer | undefined;
let roundCount = 0;
let roundLast = 0;
let roundReported = false;
let check: BadgeCheck | undefined;
let checked = 0;
let mismatches = 0;
let sample: string | undefined;

// Sustained phase: latency of every frame containing `prefix`.
let sustainPrefix: Buffer | undefined;
let latencies: number[] = [];
let sustainCount = 0;
let sustainLast = 0;

const send = (message: FromClient) => process.send!(message);

/** Compares the badges in connection `index`'s viewerEvents frame with what its user must see. */
function checkBadges(data: Buffer, index: number, expected: BadgeCheck): void {
  checked++;
  let frame: { payload?: { data?: ViewerEventsSubscription | null } } = {};
  try {
    frame = JSON.parse(data.toString('utf8')) as typeof frame;
  } catch {
    // Not JSON: counted as a mismatch below, like any frame without the badges.
  }
  const event = frame.payload?.data?.viewerEvents;
  const channel = event?.__typename === 'MessageAddedEvent' ? event.channel : undefined;
  const mentions = expected.mentions[index] ?? 0;
  if (channel?.unreadCount === expected.unread && channel.mentionCount === mentions) return;
  mismatches++;
  sample ??= `connection ${index}: unreadCount ${channel?.unreadCount} mentionCount ${channel?.mentionCount}, expected ${expected.unread} and ${mentions}`;
}

function onPayload(data: Buffer, index: number): void {
  const at = now();
  if (marker !== undefined && data.indexOf(marker) !== -1) {
    roundCount++;
    roundLast = at;
    // After the timestamp: checking is the load generator's work, not the server's.
    if (check) checkBadges(data, index, check);
    if (roundCount >= live && !roundReported) reportRound();
    return;
  }
  if (sustainPrefix !== undefined) {
    const start = data.indexOf(sustainPrefix);
    if (start === -1) return;
    // Frame text holds `<prefix><k>:<sendTime>~`.
    const colon = data.indexOf(0x3a, start + sustainPrefix.length);
    const end = data.indexOf(0x7e, colon + 1);
    const sentAt = Number(data.toString('latin1', colon + 1, end));
    latencies.push(Math.round((at - sentAt) * 100) / 100);
    sustainCount++;
    sustainLast = at;
  }
}

function reportRound(): void {
  roundReported = true;
  send({ type: 'done', round, count: roundCount, live, last: roundLast, checked, mismatches, sample });
}

/** Opens connection `index`; resolves once it is subscribed or has failed for good. */
function open(init: InitMessage, index: number, attempt = 0): Promise<void> {
  const protocol = protocols[init.protocol];
  const url = init.urls[index % init.urls.length]! + protocol.path;
  return new Promise((resolve) => {
    const connection = protocol.connect(init.params, index, index - init.offset);
    const ws = new WebSocket(url, protocol.subprotocol ? [protocol.subprotocol] : [], {
      localAddress: init.localAddress,
      perMessageDeflate: false,
      handshakeTimeout: init.connectTimeoutMs,
    });
    sockets.add(ws);
    let subscribed = false;
    let settled = false;
    const sendFrame = (frame: string) => ws.send(frame);
    const timer = setTimeout(() => giveUp('subscribe timed out'), init.connectTimeoutMs);

    function giveUp(reason: string) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sockets.delete(ws);
      ws.terminate();
      if (attempt < RETRIES) {
        sleep(200 * (attempt + 1)).then(() => open(init, index, attempt + 1).then(resolve));
        return;
      }
      failed++;
      lastError = reason;
      resolve();
    }

    ws.on('open', () => connection.open(sendFrame));
    ws.on('message', (data: Buffer) => {
      const kind = connection.frame(data, sendFrame);
      if (kind === 'message') onPayload(data, index);
      else if (kind === 'subscribed' && !subscribed) {
        subscribed = true;
        settled = true;
        clearTimeout(timer);
        live++;
        resolve();
      } else if (kind === 'error') {
        lastError = connection.lastError;
        if (subscribed) ws.terminate();
        else giveUp(connection.lastError ?? 'refused');
      }
    });
    ws.on('error', (error) => giveUp(error.message));
    ws.on('close', (code, reason) => {
      if (subscribed) {
        subscribed = false;
        live--;
        sockets.delete(ws);
        lastError = `closed after subscribing: ${code} ${reason.toString().slice(0, 200)}`;
      } else giveUp(`closed: ${code} ${reason.toString().slice(0, 200)}`);
    });
  });
}

async function connectAll(init: InitMessage): Promise<void> {
  const ticker = setInterval(() => send({ type: 'progress', subscribed: live, failed, lastError }), 1000);
  let next = 0;
  const worker = async () => {
    while (next < init.count) {
      const index = init.offset + next++;
      await open(init, index);
    }
  };
  const startedAt = now();
  await Promise.all(Array.from({ length: Math.min(init.concurrency, init.count) }, worker));
  const finishedAt = now();
  clearInterval(ticker);
  send({ type: 'ready', subscribed: live, failed, lastError, startedAt, finishedAt });
}

process.on('message', (message: ToClient) => {
  switch (message.type) {
    case 'init':
      void connectAll(message);
      break;
    case 'arm':
      round = message.round;
      marker = Buffer.from(message.marker);
      roundCount = 0;
      roundLast = 0;
      roundReported = false;
      check = message.check;
      checked = 0;
      mismatches = 0;
      sample = undefined;
      send({ type: 'armed', round });
      if (live === 0) reportRound(); // nobody here to wait for
      break;
    case 'report':
      if (message.round === round && !roundReported) reportRound();
      break;
    case 'sustain':
      marker = undefined;
      sustainPrefix = Buffer.from(message.prefix);
      latencies = [];
      sustainCount = 0;
      sustainLast = 0;
      send({ type: 'sustaining' });
      break;
    case 'count':
      send({ type: 'count', count: sustainCount });
      break;
    case 'collect':
      send({ type: 'latencies', values: latencies, lastReceive: sustainLast, live });
      sustainPrefix = undefined;
      latencies = [];
      break;
    case 'close':
      // terminate(): no close handshake, so 50k sockets go away at once.
      for (const ws of sockets) ws.terminate();
      process.exit(0);
  }
});

// Never outlive the parent.
process.on('disconnect', () => process.exit(0));
