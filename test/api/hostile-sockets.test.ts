// WebSockets a hostile client holds: one that never reads is closed once too much waits for it,
// whatever the frames; one user cannot open sockets without end; a socket dies with its token;
// and operations over a socket meet the same limits as over HTTP.
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MeDocument, MessageAddedDocument } from '../../operations/generated/graphql.ts';
import { HttpUser, Subscription, connectDevice, rawConnection, wsClient } from '../support/client.ts';
import { metricSum, metricValue } from '../support/metrics.ts';
import { TEST_SECRET, type TestServer, startServer } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';
import { organizationWith, send, signInUsers } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ WS_SOCKETS_PER_USER: '3', WS_BACKLOG_MAX_BYTES: String(64 * 1024) });
});
afterAll(async () => server?.stop());

/** A token for `sub` that expires at `exp` (seconds since the epoch), or never when null. */
function tokenExpiringAt(sub: string, exp: number | null): Promise<string> {
  const jwt = new SignJWT({ name: sub }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt();
  return (exp === null ? jwt : jwt.setExpirationTime(exp)).sign(new TextEncoder().encode(TEST_SECRET));
}

/** Opens a socket and sends connection_init; resolves with how it ended, or with 'ack'. */
function connectWith(token: string, to: TestServer = server): Promise<{ code: number; reason: string } | 'ack'> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(to.wsUrl, 'graphql-transport-ws');
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      if (String(data) === '{"type":"connection_ack"}') {
        resolve('ack');
        socket.close();
      }
    });
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason) }));
    socket.on('error', reject);
  });
}

type Frame = { id?: string; type: string; payload?: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } | { message: string; extensions?: Record<string, unknown> }[] };
const parsed = (frames: string[]) => frames.map((frame) => JSON.parse(frame) as Frame);

describe('a socket that never reads', () => {
  it('is closed (1013) once the pongs waiting for it pass the limit', async () => {
    const [ann] = Object.values(await signInUsers(server.url, ['ann']));
    const { socket, frames, closed } = await rawConnection(server, ann!.token);
    socket.pause();
    // Each ping carries 100 KB that the pong echoes: 20 MB in all, more than loopback buffers hold.
    const payload = { pad: 'x'.repeat(100 * 1024) };
    for (let i = 0; i < 200; i++) socket.send(JSON.stringify({ type: 'ping', payload }));
    await waitUntil(() => socket.bufferedAmount === 0, 'the pings to be sent');
    socket.resume();
    expect(await closed).toBe(1013);
    const pongs = parsed(frames).filter((frame) => frame.type === 'pong').length;
    expect(pongs).toBeGreaterThan(0);
    expect(pongs).toBeLessThan(200);
  });

  it('is closed (1013) once the query results waiting for it pass the limit', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const ann = world.users.ann!;
    const text = 'y'.repeat(4000);
    for (let i = 0; i < 20; i++) await send(ann, world.generalId, text);
    const { socket, frames, closed } = await rawConnection(server, ann.token);
    socket.pause();
    // Each result is 20 messages of 4,000 characters: 500 of them are 40 MB.
    const query = 'query($c: ID!) { channel(id: $c) { messages(last: 20) { edges { node { text } } } } }';
    const reads = () => metricSum(server, 'chat_store_calls_total', /findMessagesByChannel/);
    const readsBefore = await reads();
    for (let i = 0; i < 500; i++) socket.send(JSON.stringify({ id: `q${i}`, type: 'subscribe', payload: { query, variables: { c: world.generalId } } }));
    // 100 results are 8 MB: more than the kernel holds for a socket that does not read.
    await waitUntil(async () => (await reads()) >= readsBefore + 100, '100 of the queries to run');
    socket.resume();
    expect(await closed).toBe(1013);
    const results = parsed(frames).filter((frame) => frame.type === 'next').length;
    expect(results).toBeLessThan(500);
  });

  it('leaves nothing behind once closed, and others are served meanwhile', async () => {
    const [ann, bob] = Object.values(await signInUsers(server.url, ['ann', 'bob']));
    const before = await metricValue(server, 'chat_ws_connections');
    const { socket, closed } = await rawConnection(server, ann!.token);
    socket.pause();
    for (let i = 0; i < 200; i++) socket.send(JSON.stringify({ type: 'ping', payload: { pad: 'x'.repeat(100 * 1024) } }));
    expect((await bob!.run(MeDocument)).me.name).toBe('bob');
    await waitUntil(() => socket.bufferedAmount === 0, 'the pings to be sent');
    socket.resume();
    await closed;
    await waitUntil(async () => (await metricValue(server, 'chat_ws_connections')) === before, 'the connection to be let go');
  });
});

describe('sockets of one user', () => {
  it('are at most WS_SOCKETS_PER_USER on a process: the next is closed with 4429, others are not held back', async () => {
    const [ann, bob] = Object.values(await signInUsers(server.url, ['ann', 'bob']));
    const devices = [];
    for (let i = 0; i < 3; i++) devices.push(await connectDevice(server, ann!, `ann-device-${i}`));
    expect(await connectWith(ann!.token)).toEqual({ code: 4429, reason: 'Too many open connections: at most 3 per user' });
    expect(await connectWith(bob!.token)).toBe('ack');
    // A device that leaves makes room for another.
    await devices.pop()!.dispose();
    await waitUntil(async () => (await connectWith(ann!.token)) === 'ack', "a socket to be let in once one of ann's has closed");
    await Promise.all(devices.map((device) => device.dispose()));
  });
});

describe('a socket whose token expires', () => {
  it('is closed with 4403 within about a second of exp, having received until then', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const exp = Math.floor(Date.now() / 1000) + 3;
    const bobUntil = new HttpUser(server.url, await tokenExpiringAt(world.users.bob!.sub, exp), world.users.bob!.sub);
    const { socket, frames, closed } = await rawConnection(server, bobUntil.token);
    const closedAt = closed.then((code) => ({ code, at: Date.now() }));
    socket.send(JSON.stringify({ id: 'live', type: 'subscribe', payload: { query: 'subscription($c: ID!) { messageAdded(channelId: $c) { text } }', variables: { c: world.generalId } } }));
    await send(world.users.ann!, world.generalId, 'before exp');
    await waitUntil(() => frames.some((frame) => frame.includes('before exp')), 'the message sent before exp');
    const { code, at } = await closedAt;
    expect(code).toBe(4403);
    expect(at).toBeGreaterThanOrEqual(exp * 1000);
    expect(at - exp * 1000).toBeLessThan(1500);
    // The token is refused over HTTP too.
    expect((await bobUntil.request(MeDocument)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('runs no operation once exp has passed, even before the socket is closed', async () => {
    const [cat] = Object.values(await signInUsers(server.url, ['cat']));
    const exp = Math.floor(Date.now() / 1000) + 2;
    const { socket, frames, closed } = await rawConnection(server, await tokenExpiringAt(cat!.sub, exp));
    await waitUntil(() => Date.now() >= exp * 1000, 'the token to expire', { everyMs: 1 });
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ id: 'late', type: 'subscribe', payload: { query: '{ me { name } }' } }));
    expect(await closed).toBe(4403);
    expect(parsed(frames).filter((frame) => frame.type === 'next')).toEqual([]);
  });

  it('is refused at once when the token has no exp, unless AUTH_ALLOW_TOKENS_WITHOUT_EXP allows it', async () => {
    const forever = await tokenExpiringAt(`forever-${Date.now()}`, null);
    expect(await connectWith(forever)).toEqual({ code: 4403, reason: 'Forbidden' });
    const overHttp = await new HttpUser(server.url, forever, 'forever').request(MeDocument);
    expect(overHttp.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['UNAUTHENTICATED', 'Sign in again: the token has no expiry (exp)']]);

    const lenient = await startServer({ AUTH_ALLOW_TOKENS_WITHOUT_EXP: 'true' });
    try {
      expect(await connectWith(forever, lenient)).toBe('ack');
      expect((await new HttpUser(lenient.url, forever, 'forever').run(MeDocument)).me.name).toMatch(/^forever-/);
    } finally {
      await lenient.stop();
    }
  });
});

describe('operations over a socket', () => {
  it('meet the HTTP limits, with the same codes: parse, validation, cost, variables', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const { socket, frames } = await rawConnection(server, world.users.ann!.token);
    const operations: [string, { query: string; variables?: unknown }][] = [
      ['parse', { query: `{ me { ${'id '.repeat(3000)}} }` }],
      ['depth', { query: `{ me { ${'organizations { edges { node { members { edges { node { '.repeat(2)} id ${'} } } } } } '.repeat(2)}} }` }],
      ['cost', { query: 'query($c: ID!) { channel(id: $c) { messages(last: 100) { edges { node { channel { messages(last: 100) { edges { node { id text } } } } } } } } }', variables: { c: world.generalId } }],
      ['variables', { query: 'query($c: ID!) { channel(id: $c) { id } }', variables: { c: { not: 'an id' } } }],
      ['subscription variables', { query: 'subscription($c: ID!, $after: Int) { messageAdded(channelId: $c, afterSeq: $after) { seq } }', variables: { c: world.generalId, after: 1.5 } }],
    ];
    for (const [id, payload] of operations) socket.send(JSON.stringify({ id, type: 'subscribe', payload }));
    await waitUntil(() => parsed(frames).filter((frame) => frame.id).length >= operations.length, 'an answer to every operation');
    const codeOf = (id: string) => {
      const frame = parsed(frames).find((f) => f.id === id)!;
      const errors = Array.isArray(frame.payload) ? frame.payload : frame.payload?.errors;
      return { type: frame.type, codes: [...new Set(errors?.map((e) => e.extensions?.code))], http: errors?.some((e) => e.extensions?.http !== undefined) };
    };
    expect(Object.fromEntries(operations.map(([id]) => [id, codeOf(id)]))).toEqual({
      parse: { type: 'error', codes: ['GRAPHQL_PARSE_FAILED'], http: false },
      depth: { type: 'error', codes: ['GRAPHQL_VALIDATION_FAILED'], http: false },
      cost: { type: 'error', codes: ['GRAPHQL_VALIDATION_FAILED'], http: false },
      variables: { type: 'next', codes: ['BAD_USER_INPUT'], http: false },
      'subscription variables': { type: 'next', codes: ['BAD_USER_INPUT'], http: false },
    });
    socket.close();
  });

  it('keeps serving the socket after a refusal', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const client = wsClient(server.wsUrl, world.users.bob!.token);
    const refused = new Subscription(client, `{ ${'me { id } '.repeat(1000)}}`);
    await refused.settled();
    expect(JSON.stringify(refused.errors)).toContain('GRAPHQL_PARSE_FAILED');
    const live = new Subscription<{ messageAdded: { text: string } }>(client, MessageAddedDocument, { channelId: world.generalId, afterSeq: 0 });
    await send(world.users.ann!, world.generalId, 'still here');
    expect((await live.waitFor(1))[0]!.messageAdded.text).toBe('still here');
    await client.dispose();
  });
});
