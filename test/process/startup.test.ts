// Start-up as an operator meets it: every failure is one readable line on stderr (no stack) and
// exit code 1; logs are JSON lines for machines and readable lines in a developer's terminal.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startRedis } from '../support/redis.ts';
import { ROOT, TEST_SECRET, runServerProcessToExit, startServerProcess, tempDir } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';

const temp = tempDir();
afterAll(() => temp.remove());

/** Runs a server that must fail to start, and returns its one line on stderr. */
async function failingStart(env: Record<string, string>): Promise<string> {
  const { code, stdout, stderr } = await runServerProcessToExit(env);
  expect(code, `exit code; stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(1);
  const lines = stderr.split('\n').filter((line) => line !== '');
  expect(lines, 'exactly one line on stderr').toHaveLength(1);
  expect(stdout).not.toMatch(/reconnecting|\n\s+at /);
  return lines[0]!;
}

describe('a start-up that fails', () => {
  it('says the port is in use', async () => {
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      expect(await failingStart({ PORT: String(port), SQLITE_PATH: ':memory:' })).toBe(
        `cannot start: port ${port} on 127.0.0.1 is already in use by another process (set PORT to a free one)`,
      );
    } finally {
      taken.close();
    }
  });

  it('says why the SQLite file cannot be opened', async () => {
    const notAFolder = `${temp.dir}/a-file`;
    writeFileSync(notAFolder, 'text');
    expect(await failingStart({ SQLITE_PATH: `${notAFolder}/chat.db` })).toMatch(
      new RegExp(`^cannot start: cannot open the SQLite file ${notAFolder}/chat\\.db \\(SQLITE_PATH\\): a part of the path is a file, not a folder`),
    );
    const notADatabase = `${temp.dir}/notes.txt`;
    writeFileSync(notADatabase, 'these are notes, not a database '.repeat(200));
    expect(await failingStart({ SQLITE_PATH: notADatabase })).toBe(
      `cannot start: cannot open the SQLite file ${notADatabase} (SQLITE_PATH): file is not a database`,
    );
  });

  it('says Redis refused the connection, naming host and port, without a reconnecting warning first', async () => {
    const port = await freePort();
    expect(await failingStart({ REDIS_URL: `redis://127.0.0.1:${port}`, SQLITE_PATH: ':memory:' })).toBe(
      `cannot start: cannot reach Redis at 127.0.0.1:${port}: connection refused (nothing listens there)`,
    );
  });

  it('says which Redis Cluster seeds were tried and why none answered', async () => {
    const [first, second] = [await freePort(), await freePort()];
    expect(await failingStart({ REDIS_CLUSTER_NODES: `127.0.0.1:${first},127.0.0.1:${second}`, SQLITE_PATH: ':memory:' })).toBe(
      `cannot start: cannot reach the Redis Cluster (REDIS_CLUSTER_NODES): tried 127.0.0.1:${first} (connection refused (nothing listens there)), ` +
        `127.0.0.1:${second} (connection refused (nothing listens there))`,
    );
  });

  it('says a Redis Cluster seed is a Redis without cluster mode', async () => {
    const redis = await startRedis();
    try {
      const { port } = new URL(redis.url);
      expect(await failingStart({ REDIS_CLUSTER_NODES: `127.0.0.1:${port}`, SQLITE_PATH: ':memory:' })).toMatch(
        new RegExp(`^cannot start: cannot reach the Redis Cluster \\(REDIS_CLUSTER_NODES\\): tried 127\\.0\\.0\\.1:${port} \\(.*cluster support disabled`),
      );
    } finally {
      await redis.stop();
    }
  });

  it('says why MongoDB cannot be reached', async () => {
    const port = await freePort();
    expect(await failingStart({ MONGODB_URL: `mongodb://127.0.0.1:${port}/chat` })).toBe(
      `cannot start: cannot reach MongoDB at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });

  it('names the bad setting', async () => {
    expect(await failingStart({ PORT: 'eighty' })).toBe('configuration error: PORT must be an integer from 0 to 65535, got "eighty"');
    expect(await failingStart({ NODE_ENV: 'production', AUTH_JWT_SECRET: '' })).toBe(
      'configuration error: AUTH_JWT_SECRET is required when NODE_ENV=production',
    );
  });
});

describe('logs', () => {
  it('are JSON lines when the output is not a terminal', async () => {
    const server = await startServerProcess({ SQLITE_PATH: ':memory:' });
    await server.stop();
    const lines = server.output().split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines.map((line) => JSON.parse(line).msg)).toContain('stopped');
  });

  const haveScript = spawnSync('script', ['--version']).status === 0;
  if (!haveScript) console.warn('logs: `script` (util-linux) is absent: the terminal log test is SKIPPED');

  /** The server's output when its stdout is a terminal (a pseudo-terminal made by `script`). */
  async function inTerminal(env: Record<string, string>): Promise<string> {
    const command = `'${process.execPath}' dist/src/main.js`;
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', SQLITE_PATH: ':memory:', AUTH_JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'info', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const exited = new Promise((resolve) => child.once('close', resolve));
    try {
      await waitUntil(() => output.includes('listening on'), 'the server to listen');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    return output;
  }

  it.skipIf(!haveScript)('are readable lines in a developer\'s terminal, and JSON in production', async () => {
    const development = await inTerminal({ NODE_ENV: 'development' });
    expect(development).toMatch(/INFO.*chat server listening on http:\/\/localhost:\d+\/graphql/);
    expect(development).not.toContain('"msg"');
    const production = await inTerminal({ NODE_ENV: 'production', SHUTDOWN_DELAY_MS: '0' });
    expect(production).toMatch(/"msg":"chat server listening on/);
  });
});
