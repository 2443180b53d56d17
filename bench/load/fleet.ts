// Parent side of the load generators: spreads N subscribers over several client processes (each
// with its own source address), then runs measured rounds and sustained phases through them.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { now, sleep } from '../lib/clock.ts';
import { progress } from '../lib/log.ts';
import { percentilesInPlace } from '../lib/stats.ts';
import { exited, nextSourceAddress, stop, track } from '../lib/proc.ts';
import type { BadgeCheck, FromClient, ToClient } from './messages.ts';
import type { Params, ProtocolName } from './protocols.ts';

const clientScript = fileURLToPath(new URL('./client.ts', import.meta.url));

/** Most sockets one client process holds: well under the 20,000 open-files limit. */
export const PER_CLIENT_PROCESS = 12_500;

export interface FleetOptions {
  label: string;
  protocol: ProtocolName;
  urls: string[];
  total: number;
  params: Params;
  connectTimeoutMs: number;
  /** Limit for the whole connect phase. */
  readyTimeoutMs: number;
}

export interface RoundResult {
  /** Send → the last subscriber's receive, in ms. */
  ms: number;
  delivered: number;
  expected: number;
  /** A checked round: frames whose badges were checked, how many were wrong, and the first wrong one. */
  checked: number;
  mismatches: number;
  sample?: string;
}

export interface SustainResult {
  sent: number;
  failedSends: number;
  delivered: number;
  expected: number;
  p50: number;
  p99: number;
  deliveriesPerSecond: number;
}

/** One client process with a typed "wait for the next message of this type". */
class Client {
  private waiters: { type: string; accept: (message: FromClient) => boolean; resolve: (message: FromClient) => void }[] = [];
  last: FromClient | undefined;

  constructor(readonly child: ChildProcess) {
    child.on('message', (message: FromClient) => {
      this.last = message;
      const index = this.waiters.findIndex((waiter) => waiter.type === message.type && waiter.accept(message));
      if (index !== -1) this.waiters.splice(index, 1)[0]!.resolve(message);
    });
  }

  send(message: ToClient): void {
    if (this.child.connected) this.child.send(message);
  }

  /** Resolves with the next message of `type` (that `accept` takes), or rejects after timeoutMs or if the process dies. */
  next<T extends FromClient['type']>(
    type: T,
    timeoutMs: number,
    accept: (message: Extract<FromClient, { type: T }>) => boolean = () => true,
  ): Promise<Extract<FromClient, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => finish(new Error(`client process exited (${code}) while waiting for ${type}`));
      const timer = setTimeout(() => finish(new Error(`no ${type} from a client process within ${timeoutMs} ms`)), timeoutMs);
      const waiter = {
        type,
        accept: accept as (message: FromClient) => boolean,
        resolve: (message: FromClient) => finish(undefined, message),
      };
      const finish = (error: Error | undefined, message?: FromClient) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        if (error) reject(error);
        else resolve(message as Extract<FromClient, { type: T }>);
      };
      this.waiters.push(waiter);
      this.child.once('exit', onExit);
    });
  }
}

export class Fleet {
  private nextRound = 1;
  private constructor(
    private readonly clients: Client[],
    readonly subscribed: number,
    readonly failed: number,
    /** From the first handshake to the last subscription, over every client process (their start-up left out). */
    readonly connectSeconds: number,
  ) {}

  /** Starts the client processes and waits until every subscriber is subscribed (or failed). */
  static async start(options: FleetOptions): Promise<Fleet> {
    const processes = Math.ceil(options.total / PER_CLIENT_PROCESS);
    const clients: Client[] = [];
    for (let p = 0; p < processes; p++) {
      const offset = Math.floor((p * options.total) / processes);
      const count = Math.floor(((p + 1) * options.total) / processes) - offset;
      const child = track(fork(clientScript, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
      const client = new Client(child);
      clients.push(client);
      // Only this process's tokens: 50,000 distinct users' tokens sent to every process would be ~40 MB of IPC.
      const { tokens } = options.params;
      const params = tokens ? { ...options.params, tokens: Array.from({ length: count }, (_, k) => tokens[(offset + k) % tokens.length]!) } : options.params;
      client.send({
        type: 'init',
        protocol: options.protocol,
        urls: options.urls,
        localAddress: nextSourceAddress(),
        count,
        offset,
        params,
        concurrency: 100,
        connectTimeoutMs: options.connectTimeoutMs,
      });
    }
    const subscribedSoFar = () => {
      let subscribed = 0;
      for (const client of clients) if (client.last && 'subscribed' in client.last) subscribed += client.last.subscribed;
      return subscribed;
    };
    const ticker = setInterval(() => progress(`${options.label}: ${subscribedSoFar()}/${options.total} subscribed`), 2000);
    try {
      const ready = await Promise.all(clients.map((client) => client.next('ready', options.readyTimeoutMs)));
      const subscribed = ready.reduce((sum, r) => sum + r.subscribed, 0);
      const failed = ready.reduce((sum, r) => sum + r.failed, 0);
      const error = ready.find((r) => r.lastError)?.lastError;
      const connectMs = Math.max(...ready.map((r) => r.finishedAt)) - Math.min(...ready.map((r) => r.startedAt));
      progress(`${options.label}: ${subscribed}/${options.total} subscribed in ${(connectMs / 1000).toFixed(1)} s${failed ? `, ${failed} failed (${error})` : ''}`);
      return new Fleet(clients, subscribed, failed, connectMs / 1000);
    } catch (error) {
      await Promise.all(clients.map((client) => stop(client.child, 1000)));
      const timedOut = error instanceof Error && error.message.startsWith('no ready');
      if (timedOut) throw new Error(`only ${subscribedSoFar()}/${options.total} subscribed within ${options.readyTimeoutMs / 1000} s`);
      throw error;
    } finally {
      clearInterval(ticker);
    }
  }

  /**
   * One fan-out round: arm every client, publish one message, wait until every live subscriber
   * has it (or timeoutMs), and return send → last receive. With `check`, every subscriber also
   * compares the badges in its frame with what it must see.
   */
  async round(publish: (text: string) => Promise<void>, timeoutMs: number, check?: BadgeCheck): Promise<RoundResult> {
    const round = this.nextRound++;
    const marker = `~R${round}x${process.pid}~`;
    const armed = this.clients.map((client) => client.next('armed', 10_000, (m) => m.round === round));
    for (const client of this.clients) client.send({ type: 'arm', round, marker, check });
    await Promise.all(armed);

    // Only this round's report: a late one from an earlier, timed-out round must not count.
    const done = this.clients.map((client) => client.next('done', timeoutMs + 5000, (m) => m.round === round));
    const reportTimer = setTimeout(() => {
      for (const client of this.clients) client.send({ type: 'report', round });
    }, timeoutMs);
    const sentAt = now();
    try {
      await publish(`${marker} round ${round}`);
      const reports = await Promise.all(done);
      const delivered = reports.reduce((sum, r) => sum + r.count, 0);
      const expected = reports.reduce((sum, r) => sum + r.live, 0);
      const last = Math.max(...reports.map((r) => r.last));
      const checked = reports.reduce((sum, r) => sum + r.checked, 0);
      const mismatches = reports.reduce((sum, r) => sum + r.mismatches, 0);
      return { ms: last - sentAt, delivered, expected, checked, mismatches, sample: reports.find((r) => r.sample)?.sample };
    } finally {
      clearTimeout(reportTimer);
      done.forEach((promise) => promise.catch(() => {}));
    }
  }

  /**
   * Sustained load: `rate` messages per second for `seconds`, open loop (sends are not held back
   * by slow answers), then waits for stragglers and merges every subscriber's latencies.
   */
  async sustain(publish: (text: string) => Promise<void>, rate: number, seconds: number): Promise<SustainResult> {
    const run = this.nextRound++;
    const prefix = `~S${run}x${process.pid}:`;
    const ready = this.clients.map((client) => client.next('sustaining', 10_000));
    for (const client of this.clients) client.send({ type: 'sustain', prefix });
    await Promise.all(ready);

    const total = Math.round(rate * seconds);
    const interval = 1000 / rate;
    const firstSend = now();
    const inFlight = new Set<Promise<void>>();
    let failedSends = 0;
    for (let k = 0; k < total; k++) {
      const due = firstSend + k * interval;
      const wait = due - now();
      if (wait > 0) await sleep(wait);
      // Bounded in-flight: a system that stops answering cannot make us pile up requests.
      if (inFlight.size >= 200) await Promise.race(inFlight);
      const sending: Promise<void> = publish(`${prefix}${k}:${now()}~`)
        .catch(() => {
          failedSends++;
        })
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    }
    await Promise.all(inFlight);

    // Wait (bounded) until every message reached every subscriber, or nothing moves for 2 s.
    const expectedPerMessage = this.subscribed;
    const expected = (total - failedSends) * expectedPerMessage;
    let delivered = 0;
    let lastChange = Date.now();
    const drainDeadline = Date.now() + 15_000;
    while (Date.now() < drainDeadline && Date.now() - lastChange < 2000) {
      const counts = this.clients.map((client) => client.next('count', 5000));
      for (const client of this.clients) client.send({ type: 'count' });
      const sum = (await Promise.all(counts)).reduce((s, c) => s + c.count, 0);
      if (sum !== delivered) lastChange = Date.now();
      delivered = sum;
      if (delivered >= expected) break;
      await sleep(100);
    }

    const collected = this.clients.map((client) => client.next('latencies', 30_000));
    for (const client of this.clients) client.send({ type: 'collect' });
    const parts = await Promise.all(collected);
    const values = new Float64Array(parts.reduce((n, part) => n + part.values.length, 0));
    let offset = 0;
    for (const part of parts) {
      values.set(part.values, offset);
      offset += part.values.length;
    }
    const [p50, p99] = percentilesInPlace(values, [50, 99]);
    const lastReceive = Math.max(...parts.map((part) => part.lastReceive));
    // Offered window is `seconds`; a system that lags stretches it, which lowers deliveries/s.
    const elapsed = Math.max(seconds * 1000, lastReceive - firstSend);
    return {
      sent: total,
      failedSends,
      delivered: values.length,
      expected,
      p50: p50!,
      p99: p99!,
      deliveriesPerSecond: values.length / (elapsed / 1000),
    };
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.send({ type: 'close' });
    // Each client exits by itself on 'close'; stop() only catches one that does not.
    await Promise.all(this.clients.map((client) => exited(client.child, 5000).then(() => stop(client.child, 1000))));
  }
}
