// A private redis-server for one bench run: no persistence, loopback only, stopped at the end.
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { sleep } from './clock.ts';
import { freePort, stop, track } from './proc.ts';

export interface RedisHandle {
  url: string;
  /** Empties every database, so one session's keys never leak into the next. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedis(): Promise<RedisHandle> {
  const port = await freePort();
  const child = track(
    spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '10000'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    }),
  );
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {}); // connection errors surface through connect() below
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch (error) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start: ${String(error)}`);
      client.disconnect();
      await sleep(100);
    }
  }
  return {
    url,
    flush: async () => {
      await client.flushall();
    },
    close: async () => {
      client.disconnect();
      await stop(child);
    },
  };
}
