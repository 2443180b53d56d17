// Child processes of a bench run: servers, Redis and load generators. Every child is tracked
// so that any exit of the parent (normal, error, Ctrl-C, time limit) kills what it started.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { sleep } from './clock.ts';
import { collectGarbage } from './inspector.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const benchDir = fileURLToPath(new URL('../', import.meta.url));

const children = new Set<ChildProcess>();
/** Processes the bench itself is ending (their exit is no news). */
const stopping = new WeakSet<ChildProcess>();

export function track<C extends ChildProcess>(child: C): C {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills every tracked child still running (synchronous, so it also works in an 'exit' handler). */
export function killAll(): void {
  for (const child of children) {
    stopping.add(child);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
process.once('exit', killAll);

/** A TCP port that was free a moment ago (the OS picks it; we close and hand it to a server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  label: string;
  port: number;
  /** Inspector port (loopback only), used to force a GC before memory readings. */
  inspectPort: number;
  child: ChildProcess;
  /** The last lines the process printed, for error messages. */
  tail: string[];
}

export interface NodeOptions {
  /** How many of its first lines are echoed to stderr (default 20). */
  echoLines?: number;
  /** Sees every line the process prints (the chaos run keeps whole server logs). */
  onLine?: (line: string) => void;
}

/**
 * Node's flags for every server process, ours and the peers alike, as `npm start` and the
 * Dockerfile run ours: a young generation of 64 MB semi-spaces (16 MB by default), because a
 * fan-out leaves a frame per subscriber to collect, and fewer, larger scavenges collect them for
 * a fraction of the cost (README, Performance).
 */
const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];

/**
 * With BENCH_CPU_PROFILE=<dir>, each server process whose label starts with
 * BENCH_CPU_PROFILE_OF (default `ours`) writes a V8 CPU profile there when it stops.
 */
function cpuProfile(label: string): string[] {
  const dir = process.env.BENCH_CPU_PROFILE;
  return dir && label.startsWith(process.env.BENCH_CPU_PROFILE_OF ?? 'ours') ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/** Starts `node --import tsx <script>` in the repo root; its output is kept and partly echoed. */
export async function startNode(
  label: string,
  script: string,
  port: number,
  env: Record<string, string>,
  { echoLines = 20, onLine }: NodeOptions = {},
): Promise<ServerProcess> {
  const inspectPort = await freePort();
  const child = track(
    spawn(process.execPath, [`--inspect=127.0.0.1:${inspectPort}`, ...SERVER_NODE_FLAGS, ...cpuProfile(label), '--import', 'tsx', script], {
      cwd: repoRoot,
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const server: ServerProcess = { label, port, inspectPort, child, tail: [] };
  let echoed = 0;
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      // The inspector's own notices ("Debugger listening on …") are not the server's output.
      if (line.trim() === '' || /^(Debugger (listening|attached|ending)|For help, see)/.test(line)) continue;
      server.tail.push(line);
      if (server.tail.length > 50) server.tail.shift();
      onLine?.(line);
      // Echo a few lines so problems are visible, but never flood the terminal.
      if (echoed < echoLines) process.stderr.write(`  [${label}] ${line.slice(0, 300)}\n`);
      else if (echoed === echoLines && echoLines > 0) process.stderr.write(`  [${label}] (further output suppressed)\n`);
      echoed++;
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  // A server that ends before the bench stops it must say so: its clients only see refused connections.
  child.once('exit', (code, signal) => {
    if (stopping.has(child)) return;
    process.stderr.write(`  [${label}] exited by itself (${code ?? signal}); last lines: ${server.tail.slice(-5).join(' | ').slice(0, 1500) || 'none'}\n`);
  });
  return server;
}

/** Polls GET url until it answers 200; fails when the process exits or the time is up. */
export async function waitReady(server: ServerProcess, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const url = `http://127.0.0.1:${server.port}${path}`;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${server.label} exited (${server.child.exitCode ?? server.child.signalCode}): ${server.tail.slice(-5).join(' | ')}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${server.label} was not ready within ${timeoutMs} ms: ${server.tail.slice(-5).join(' | ')}`);
}

/**
 * Starts servers on free ports and waits until each answers 200 on `path`. A port found free can
 * be taken by another program before the server listens on it (tests running beside the bench):
 * a server that exits saying so is started again on another port, up to three times.
 */
export async function startReady(
  servers: { label: string; script: string; env: Record<string, string> }[],
  path: string,
  timeoutMs: number,
): Promise<ServerProcess[]> {
  const started: ServerProcess[] = [];
  const startOne = async ({ label, script, env }: (typeof servers)[number]): Promise<ServerProcess> => {
    for (let attempt = 1; ; attempt++) {
      const server = await startNode(label, script, await freePort(), env);
      started.push(server);
      try {
        await waitReady(server, path, timeoutMs);
        return server;
      } catch (error) {
        const portTaken = server.tail.some((line) => /already in use|EADDRINUSE/.test(line));
        if (!portTaken || attempt >= 3) throw error;
        process.stderr.write(`  [${label}] its port was taken meanwhile; starting it on another\n`);
      }
    }
  };
  try {
    return await Promise.all(servers.map(startOne));
  } catch (error) {
    await Promise.all(started.map((server) => stop(server.child)));
    throw error;
  }
}

/** Resolves when the process has exited, or after timeoutMs, whichever comes first. */
export function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** SIGTERM, then SIGKILL if the process has not exited within graceMs. */
export async function stop(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  stopping.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** kill -9, as a crash would (the chaos run's fault): resolves once the process has exited. */
export async function crash(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  stopping.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** Resident set size of a process in KiB, from /proc (Linux). */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, every thread) a process has used so far, in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count from the ')' that ends it. Field 3 is then
  // the first; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds used so far by all the servers together; the resolution is one tick (10 ms) per process. */
export function serversCpuSeconds(servers: ServerProcess[]): number {
  return servers.reduce((sum, server) => sum + cpuSeconds(server.child.pid!), 0);
}

/** Total RSS of the servers, each read right after a forced full GC. */
export async function collectedRssKiB(servers: ServerProcess[]): Promise<number> {
  await Promise.all(servers.map((server) => collectGarbage(server.inspectPort)));
  await sleep(300);
  return servers.reduce((sum, server) => sum + rssKiB(server.child.pid!), 0);
}

/**
 * A fresh source address per load-generator process: connections from 127.0.0.2, 127.0.0.3 ...
 * each get their own ~28k ephemeral ports, and sockets left in TIME_WAIT by one session never
 * collide with the next one.
 */
let lastSourceOctet = 1;
export function nextSourceAddress(): string {
  lastSourceOctet++;
  if (lastSourceOctet > 254 * 200) throw new Error('out of loopback source addresses');
  const low = ((lastSourceOctet - 2) % 253) + 2;
  const mid = Math.floor((lastSourceOctet - 2) / 253);
  return `127.0.${mid}.${low}`;
}
