// The system under test: N server processes on one SQLite file and one Redis of the run's own, each
// behind a TCP proxy that clients go through (so their sockets can be cut), with what the faults
// do to them: kill -9 and restart, SIGSTOP and SIGCONT, Redis restarted.
//
// Redis is one node. Redis Cluster mode (for when the server speaks to a cluster) fits behind
// RedisUnderTest: it would start masters and replicas, give the servers their nodes, and offer one
// more fault kind, a master killed; nothing else here depends on how Redis is deployed.
import { type WriteStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { startTcpProxy, type TcpProxy } from '../../test/support/tcp-proxy.ts';
import { sleep } from '../../bench/lib/clock.ts';
import { crash, freePort, startNode, stop, waitReady, type ServerProcess } from '../../bench/lib/proc.ts';
import { type RedisHandle, startRedis } from '../../bench/lib/redis.ts';
import type { Plan } from './plan.ts';

export interface RedisUnderTest {
  /** What the servers are given to reach it. */
  env: Record<string, string>;
  /** Takes Redis away (its data is lost) for downMs, then brings it back. */
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

/** One Redis node of the run's own (bench/lib/redis.ts). */
export async function startSingleRedis(): Promise<RedisUnderTest> {
  const redis: RedisHandle = await startRedis();
  return { env: { REDIS_URL: redis.url }, restart: (downMs) => redis.restart(downMs), close: () => redis.close() };
}

export type ServerState = 'up' | 'down' | 'paused' | 'starting';

export class ChaosServer {
  state: ServerState = 'starting';
  process: ServerProcess | null = null;
  starts = 0;

  constructor(
    readonly index: number,
    readonly port: number,
    readonly proxy: TcpProxy,
    readonly log: WriteStream,
  ) {}

  get label(): string {
    return `s${this.index}`;
  }
}

export class Cluster {
  private constructor(
    readonly servers: ChaosServer[],
    private readonly env: Record<string, string>,
    readonly redis: RedisUnderTest,
  ) {}

  /** Starts the servers one after the other (the first creates nothing: the store is seeded). */
  static async start(plan: Plan, dir: string, sqlitePath: string, secret: string, redis: RedisUnderTest): Promise<Cluster> {
    const t = plan.timings;
    const env = {
      ...redis.env,
      SQLITE_PATH: sqlitePath,
      AUTH_JWT_SECRET: secret,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      WS_KEEPALIVE_MS: String(t.keepAliveMs),
      PRESENCE_TTL_MS: String(t.presenceTtlMs),
      PRESENCE_GRACE_MS: String(t.presenceGraceMs),
      PRESENCE_SWEEP_MS: String(t.presenceSweepMs),
      SEND_RATE_LIMIT: String(t.sendRateLimit),
    };
    const servers: ChaosServer[] = [];
    for (let i = 0; i < plan.servers; i++) {
      const port = await freePort();
      const proxy = await startTcpProxy({ host: '127.0.0.1', port });
      servers.push(new ChaosServer(i, port, proxy, createWriteStream(path.join(dir, `server-${i}.log`))));
    }
    const cluster = new Cluster(servers, env, redis);
    for (const server of servers) await cluster.startServer(server);
    return cluster;
  }

  get httpUrls(): string[] {
    return this.servers.map((s) => `http://127.0.0.1:${s.proxy.port}/graphql`);
  }

  get wsUrls(): string[] {
    return this.servers.map((s) => `ws://127.0.0.1:${s.proxy.port}/graphql`);
  }

  /** Starts (or restarts) a server on its port; tries again while it cannot start (Redis away). */
  async startServer(server: ChaosServer): Promise<void> {
    server.state = 'starting';
    for (let attempt = 1; ; attempt++) {
      server.starts++;
      server.log.write(`--- start ${server.starts} at ${new Date().toISOString()} ---\n`);
      const started = await startNode(server.label, 'src/main.ts', server.port, this.env, {
        echoLines: 0,
        onLine: (line) => server.log.write(`${line}\n`),
      });
      server.process = started;
      try {
        await waitReady(started, '/health', 120_000);
        server.state = 'up';
        return;
      } catch (error) {
        await stop(started.child, 1000);
        if (attempt >= 10) throw error;
        await sleep(1000);
      }
    }
  }

  /** kill -9 (a crash): in-flight requests die with it. */
  async kill(server: ChaosServer): Promise<void> {
    server.state = 'down';
    if (server.process) await crash(server.process.child);
    server.log.write(`--- killed at ${new Date().toISOString()} ---\n`);
  }

  pause(server: ChaosServer): void {
    server.process?.child.kill('SIGSTOP');
    server.state = 'paused';
    server.log.write(`--- paused at ${new Date().toISOString()} ---\n`);
  }

  resume(server: ChaosServer): void {
    server.process?.child.kill('SIGCONT');
    server.state = 'up';
    server.log.write(`--- resumed at ${new Date().toISOString()} ---\n`);
  }

  /** Every server running and answering, whatever the faults left behind. */
  async ensureAllUp(): Promise<void> {
    for (const server of this.servers) {
      if (server.state === 'paused') this.resume(server);
      const child = server.process?.child;
      const dead = !child || child.exitCode !== null || child.signalCode !== null;
      if (dead && server.state !== 'starting') await this.startServer(server);
    }
    while (this.servers.some((s) => s.state === 'starting')) await sleep(200);
  }

  async stop(): Promise<void> {
    for (const server of this.servers) if (server.state === 'paused') this.resume(server);
    await Promise.all(this.servers.map(async (server) => server.process && (await stop(server.process.child, 5000))));
    await Promise.all(this.servers.map((server) => server.proxy.close()));
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.log.end(resolve))));
    await this.redis.close();
  }
}
