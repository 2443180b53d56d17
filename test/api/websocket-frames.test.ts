// A subscription's frames are written whole, header and payload in one write (src/graphql-websocket.ts):
// a real ws client must get them intact, of every header size, in order with what ws itself sends.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { type GraphQLWebSocket, socketClassFor, textFrame } from '../../src/graphql-websocket.ts';

let server: WebSocketServer | null = null;

afterEach(async () => {
  for (const client of server?.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

/** A server of the socket class and one client connected to it; the server's side of the socket. */
async function connected(options: { perMessageDeflate?: boolean | object; backlogMaxBytes?: number } = {}) {
  server = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    perMessageDeflate: options.perMessageDeflate ?? false,
    WebSocket: socketClassFor(options.backlogMaxBytes ?? Number.POSITIVE_INFINITY),
  });
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[GraphQLWebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: options.perMessageDeflate !== false });
  const received: string[] = [];
  client.on('message', (data, isBinary) => received.push(`${isBinary ? 'binary' : 'text'}:${String(data)}`));
  await once(client, 'open');
  const [socket] = await accepted;
  return { socket, client, received };
}

function writeWhole(socket: GraphQLWebSocket, text: string): void {
  const bytes = Buffer.from(text);
  const frame = textFrame(bytes.length);
  bytes.copy(frame, frame.length - bytes.length);
  socket.writeTextFrame(frame);
}

/** Waits for done() for up to 5 s (a frame the client could not read never arrives). */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('the client did not get every frame within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('frames written whole', () => {
  it('reach a ws client intact at every header size (7-bit, 16-bit and 64-bit lengths), as text', async () => {
    const { socket, received } = await connected();
    const texts = [0, 1, 125, 126, 127, 65_535, 65_536, 100_000].map((n) => 'é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2));
    for (const text of texts) writeWhole(socket, text);
    await until(() => received.length === texts.length);
    expect(received).toEqual(texts.map((text) => `text:${text}`));
  });

  it('keep their order with what ws sends, also while ws compresses (permessage-deflate) and holds its frames back', async () => {
    const { socket, received } = await connected({ perMessageDeflate: { threshold: 0 } });
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      const text = `message ${i} ${'y'.repeat(i * 7)}`;
      if (i % 3 === 0) socket.send(text);
      else writeWhole(socket, text);
      expected.push(`text:${text}`);
    }
    await until(() => received.length === expected.length);
    expect(received).toEqual(expected);
  });

  it('count towards the backlog: a client that does not read is closed with 1013 once past the limit', async () => {
    const { socket, client } = await connected({ backlogMaxBytes: 64 * 1024 });
    client.pause(); // reads nothing: the server's bytes pile up
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    const big = 'z'.repeat(60_000);
    for (let i = 0; i < 200 && socket.readyState === WebSocket.OPEN; i++) writeWhole(socket, big);
    client.resume();
    expect(socket.readyState).not.toBe(WebSocket.OPEN);
    expect(await closed).toBe(1013);
  });
});
