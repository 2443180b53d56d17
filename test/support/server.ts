// Servers for the tests: one in this process (buildApp on port 0, as main() does) or several real
// processes of the compiled server (`dist/src/main.js`, as `npm start` runs it; compiled by the
// tests' global setup) sharing a SQLite file and a Redis.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { AppDeps } from '../../src/context.ts';
import { closeDeps, connectDeps } from '../../src/deps.ts';
import { createLogger } from '../../src/logger.ts';
import { freePort } from './redis.ts';

export const TEST_SECRET = 'test-secret-of-at-least-16-chars';

export interface TestServer {
  url: string;
  wsUrl: string;
  port: number;
  deps: AppDeps;
  /** Stops as SIGTERM does after its delay: requests and WebSocket operations running get up to graceMs. */
  stop(graceMs?: number): Promise<void>;
}

/** A temporary folder for a SQLite file; removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'chat-test-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A server in this process on a real SQLite file in a temporary folder (or env overrides). */
export async function startServer(env: Record<string, string> = {}): Promise<TestServer> {
  const temp = tempDir();
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SQLITE_PATH: join(temp.dir, 'chat.db'),
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const deps = await connectDeps(config, createLogger(config.logLevel));
  const app = buildApp(deps);
  const port = await app.start();
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    port,
    deps,
    async stop(graceMs = 0) {
      await app.stop(graceMs);
      await closeDeps(deps);
      temp.remove();
    },
  };
}

export interface ServerProcess {
  url: string;
  wsUrl: string;
  port: number;
  child: ChildProcess;
  /** What the process has printed (its log). */
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

/** The repository's root folder. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** How a server process is launched: the compiled server in this repository unless told otherwise. */
export interface Launch {
  cwd: string;
  args: string[];
  /** How long the process may take to answer /ready (60 s unless told). */
  readyWithinMs?: number;
}

const COMPILED: Launch = { cwd: ROOT, args: ['--enable-source-maps', 'dist/src/main.js'] };

/** The environment of a test's server process: loopback, the tests' secret, JSON logs at info. */
function processEnv(port: number, env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    AUTH_JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'info',
    NODE_ENV: 'test',
    ...env,
  };
}

export interface ExitedProcess {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled server until it exits by itself (as a failed start-up does); killed after timeoutMs. */
export async function runServerProcessToExit(env: Record<string, string>, timeoutMs = 30_000): Promise<ExitedProcess> {
  const child = spawn(process.execPath, COMPILED.args, { cwd: COMPILED.cwd, env: processEnv(await freePort(), env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Starts the compiled server as a real process and waits until /ready answers 200 (on env.PORT, else a free port). */
export async function startServerProcess(env: Record<string, string>, launch: Launch = COMPILED): Promise<ServerProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, launch.args, {
    cwd: launch.cwd,
    env: processEnv(port, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  // Generous: on a loaded 2-core machine several processes may be starting at once.
  const deadline = Date.now() + (launch.readyWithinMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    const ready = await fetch(`${base}/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `${base}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    port,
    child,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
