// SIGTERM as a load balancer needs it: /ready fails at once while the process keeps serving for
// SHUTDOWN_DELAY_MS, then WebSockets close with 1001, a request in flight still gets its answer,
// and the process exits 0. A second signal while draining stops it at once.
import { request } from 'node:http';
import { print } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { MeDocument, SendMessageDocument } from '../../operations/generated/graphql.ts';
import { rawConnection } from '../support/client.ts';
import { startServer, startServerProcess, tempDir } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';
import { organizationWith } from '../support/world.ts';

const temp = tempDir();
afterAll(() => temp.remove());

const DELAY_MS = 1500;

const status = (url: string) => fetch(url).then(async (r) => ({ status: r.status, body: await r.text() }));

/** A POST whose body is sent in two parts: in flight on the server until finish() sends the rest. */
function slowPost(port: number, token: string, body: string) {
  const half = Math.floor(body.length / 2);
  const req = request({
    host: '127.0.0.1',
    port,
    path: '/graphql',
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
  });
  const response = new Promise<{ status: number; connection: string | undefined; body: string }>((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.once('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body: text }));
    });
  });
  req.write(body.slice(0, half));
  return { response, finish: () => req.end(body.slice(half)) };
}

describe('SIGTERM', () => {
  it('fails /ready at once, serves through the delay, closes sockets with 1001, answers the request in flight, exits 0', async () => {
    const server = await startServerProcess({ SQLITE_PATH: `${temp.dir}/drain.db`, SHUTDOWN_DELAY_MS: String(DELAY_MS) });
    const { users, generalId } = await organizationWith(server.url, ['ann', 'bob']);
    const socket = await rawConnection(server, users.bob!.token);
    let socketClosedAt = 0;
    void socket.closed.then(() => (socketClosedAt = Date.now()));

    const body = JSON.stringify({ query: print(SendMessageDocument), variables: { input: { channelId: generalId, text: 'sent across the shutdown' } } });
    const inFlight = slowPost(server.port, users.ann!.token, body);

    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');

    // While the delay runs: not ready, still alive, still answering, the socket still open.
    await waitUntil(async () => (await status(`http://127.0.0.1:${server.port}/ready`)).status === 503, '/ready to answer 503');
    expect((await status(`http://127.0.0.1:${server.port}/ready`)).body).toContain('draining');
    expect((await status(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
    expect((await users.bob!.run(MeDocument)).me.id).toBe(users.bob!.id);
    expect(socketClosedAt).toBe(0);

    expect(await socket.closed).toBe(1001);
    expect(socketClosedAt - signalledAt).toBeGreaterThanOrEqual(DELAY_MS);
    // Sockets are closed and no connection is accepted any more: the request in flight still gets its answer.
    await waitUntil(() => server.output().includes('letting the HTTP requests in flight finish'), 'the server to wait for the request in flight');
    await expect(fetch(`http://127.0.0.1:${server.port}/health`)).rejects.toThrow();
    inFlight.finish();
    const answer = await inFlight.response;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ data: { sendMessage: { seq: 1, text: 'sent across the shutdown' } } });

    expect(await exited).toBe(0);
    const phases = ['draining: /ready answers 503', 'closing WebSockets (1001)', 'closing the store and the bus', '"msg":"stopped"'];
    for (const phase of phases) expect(server.output()).toContain(phase);
  });

  it('answers a mutation running on a WebSocket before closing the socket with 1001, and refuses new ones meanwhile', async () => {
    const server = await startServer();
    const { users, generalId } = await organizationWith(server.url, ['ann']);
    // The store holds the next send until released: a mutation in flight when the server stops.
    const store = server.deps.store;
    const append = store.appendMessage.bind(store);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let appending = false;
    store.appendMessage = async (draft) => {
      appending = true;
      await held;
      return append(draft);
    };
    const connection = await rawConnection(server, users.ann!.token);
    const send = (id: string, text: string) =>
      connection.socket.send(
        JSON.stringify({ id, type: 'subscribe', payload: { query: print(SendMessageDocument), variables: { input: { channelId: generalId, text } } } }),
      );
    send('first', 'sent as the server stops');
    await waitUntil(() => appending, 'the send to reach the store');

    const stopped = server.stop(10_000);
    send('second', 'sent while the server waits for the first');
    await waitUntil(() => connection.frames.some((frame) => frame.includes('"id":"second"')), 'an answer to the second send');
    release();
    expect(await connection.closed).toBe(1001);
    await stopped;

    const answers = connection.frames.map((frame) => JSON.parse(frame));
    const first = answers.find((answer) => answer.id === 'first' && answer.type === 'next');
    expect(first?.payload.data.sendMessage.text).toBe('sent as the server stops');
    // Refused before it started (graphql-ws's "error" message), with a code that says: send it again.
    const second = answers.find((answer) => answer.id === 'second');
    expect(second).toMatchObject({ type: 'error', payload: [{ extensions: { code: 'UNAVAILABLE' } }] });
  });

  it('stops at once on a second signal while draining', async () => {
    const server = await startServerProcess({ SQLITE_PATH: ':memory:', SHUTDOWN_DELAY_MS: '600000' });
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    await waitUntil(async () => (await status(`http://127.0.0.1:${server.port}/ready`)).status === 503, '/ready to answer 503');
    server.child.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(server.output()).toContain('second signal while draining');
  });
});
