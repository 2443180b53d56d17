// The ceiling: a bare `ws` broadcast server. Clients send {"sub":"<channel>"} and get
// {"ok":"<channel>"}; a publish serializes the message ONCE into a Buffer and writes that same
// Buffer to every local subscriber. With REDIS_URL several processes share the load: the
// process that takes the publish fans out locally at once and relays the frame through Redis,
// where every other process (subscribed once per channel) fans it out to its own clients.
import { Redis } from 'ioredis';
import { WebSocketServer, type WebSocket } from 'ws';
import { createControlServer, listenPort } from './http.ts';

const channels = new Map<string, Set<WebSocket>>();
const TEXT = { binary: false } as const;

const redisUrl = process.env.REDIS_URL;
const pub = redisUrl ? new Redis(redisUrl) : undefined;
const sub = redisUrl ? new Redis(redisUrl) : undefined;
// Frames relayed through Redis start with this process's tag so it can skip its own.
const origin = Buffer.from(`${process.pid}|`);
const topic = (channel: string) => `bare:${channel}`;

function fanOut(channel: string, frame: Buffer): void {
  const subscribers = channels.get(channel);
  if (!subscribers) return;
  for (const ws of subscribers) ws.send(frame, TEXT);
}

function publish(channel: string, text: string): void {
  const frame = Buffer.from(JSON.stringify({ c: channel, m: text }));
  fanOut(channel, frame);
  void pub?.publish(topic(channel), Buffer.concat([origin, frame]));
}

sub?.on('messageBuffer', (topicName: Buffer, message: Buffer) => {
  if (message.subarray(0, origin.length).equals(origin)) return;
  const bar = message.indexOf(0x7c); // '|' ends the origin tag
  fanOut(topicName.toString().slice('bare:'.length), message.subarray(bar + 1));
});

function join(ws: WebSocket, channel: string): void {
  let subscribers = channels.get(channel);
  if (!subscribers) {
    subscribers = new Set();
    channels.set(channel, subscribers);
    void sub?.subscribe(topic(channel));
  }
  subscribers.add(ws);
  ws.once('close', () => subscribers.delete(ws));
}

const server = createControlServer(publish);
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false, maxPayload: 4096 });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    try {
      const { sub: channel } = JSON.parse(data.toString()) as { sub?: unknown };
      if (typeof channel !== 'string') throw new Error('no channel');
      join(ws, channel);
      ws.send(JSON.stringify({ ok: channel }));
    } catch {
      ws.close(1008, 'send {"sub":"<channel>"}');
    }
  });
});
server.listen(listenPort(), '127.0.0.1');

// Ended by the bench with SIGTERM: exiting through process.exit lets --cpu-prof write its profile.
process.once('SIGTERM', () => process.exit(0));
