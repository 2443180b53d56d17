// A private redis-server for one bench or chaos run: no persistence, loopback only, stopped at the
// end. restart() kills it (kill -9, so its data is lost as in a crash) and starts it again on the
// same port, which is how the chaos run takes Redis away from the servers.
import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { sleep } from './clock.ts';
import { freePort, stop, track } from './proc.ts';

export interface RedisHandle {
  url: string;
  /** Empties every database, so one session's keys never leak into the next. */
  flush(): Promise<void>;
  /** kill -9, nothing for downMs, then a fresh (empty) server on the same port. */
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

function spawnRedis(port: number): ChildProcess {
  return track(
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '10000'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
}

/** Resolves once the server at url answers PING; fails after 10 s or when the process exits. */
async function answering(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    probe.on('error', () => {}); // refused while the server starts: retried below
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start: ${String(error)}`);
      await sleep(100);
    } finally {
      probe.disconnect();
    }
  }
}

export async function startRedis(): Promise<RedisHandle> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child = spawnRedis(port);
  await answering(url, child);
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: (attempt: number) => Math.min(50 * attempt, 500) });
  client.on('error', () => {}); // only used between sessions, when the server is up
  return {
    url,
    flush: async () => {
      await client.flushall();
    },
    restart: async (downMs) => {
      const running = child;
      if (running.exitCode === null && running.signalCode === null) {
        const exited = new Promise((resolve) => running.once('exit', resolve));
        running.kill('SIGKILL');
        await exited;
      }
      await sleep(downMs);
      child = spawnRedis(port);
      await answering(url, child);
    },
    close: async () => {
      client.disconnect();
      await stop(child);
    },
  };
}
