// HAProxy in front of the tests' server processes, run with the deployment's own file
// (deploy/haproxy.cfg) and environment variables naming the tests' ports. Debian's haproxy package
// (.ci/run installs it); the tests that need it say they were skipped when it is not installed.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from './redis.ts';
import { ROOT } from './server.ts';
import { waitUntil } from './wait.ts';

export const HAPROXY_CONFIG = join(ROOT, 'deploy/haproxy.cfg');

/** Why HAProxy cannot run here, or null when it can. */
export function haproxyMissing(): string | null {
  const probe = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return 'haproxy is not installed (apt-get install haproxy; .ci/run does it)';
  return null;
}

/** Runs `haproxy -c` on the deployment's file: its exit code and what it said. */
export function checkHaproxyConfig(env: Record<string, string> = {}): { status: number | null; output: string } {
  const result = spawnSync('haproxy', ['-c', '-f', HAPROXY_CONFIG], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

export interface TestHaproxy {
  url: string;
  wsUrl: string;
  /** What HAProxy thinks of each chat process (chat-1 ...): UP, DOWN, ... from its stats page. */
  states(): Promise<Record<string, string>>;
  /** Waits until HAProxy reports the server (chat-1 ...) in this state. */
  waitFor(server: string, state: 'UP' | 'DOWN'): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

// Checks every 250 ms; a server is out after two failures (< the tests' SHUTDOWN_DELAY_MS) and in
// again after one success.
const TEST_CHECKS = { CHAT_CHECK_INTER: '250ms', CHAT_CHECK_FALL: '2', CHAT_CHECK_RISE: '1' };

/** Starts HAProxy in front of the three server processes on these ports; resolves once all are UP. */
export async function startHaproxy(serverPorts: number[]): Promise<TestHaproxy> {
  if (serverPorts.length !== 3) throw new Error('deploy/haproxy.cfg names three chat processes');
  const [port, statsPort] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    ...TEST_CHECKS,
    CHAT_LB_BIND: `127.0.0.1:${port}`,
    CHAT_LB_STATS_BIND: `127.0.0.1:${statsPort}`,
    ...Object.fromEntries(serverPorts.map((p, i) => [`CHAT_SERVER_${i + 1}`, `127.0.0.1:${p}`])),
  };
  // -db: stay in the foreground, as in a container.
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', HAPROXY_CONFIG], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  async function states(): Promise<Record<string, string>> {
    const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text();
    const rows = csv.split('\n').map((line) => line.split(','));
    const status = rows[0]!.indexOf('status');
    return Object.fromEntries(rows.filter((r) => r[0] === 'chat' && r[1]?.startsWith('chat-')).map((r) => [r[1]!, r[status]!]));
  }
  const haproxy: TestHaproxy = {
    url: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    states,
    async waitFor(server, state) {
      await waitUntil(async () => (await states().catch(() => ({}) as Record<string, string>))[server] === state, `HAProxy to see ${server} ${state}`);
    },
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
  try {
    for (let i = 1; i <= 3; i++) await haproxy.waitFor(`chat-${i}`, 'UP');
  } catch (error) {
    await haproxy.stop();
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  return haproxy;
}
