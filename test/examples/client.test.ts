// What a client developer runs first, against a real server process: `npm run seed` fills a demo
// organization with badges for everyone, and `npm run example` does what the README's client
// section shows (app open, open a channel, scroll up, send, live, mark read, resume) and exits.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppOpenDocument, type AppOpenQuery } from '../../operations/generated/graphql.ts';
import { HttpUser } from '../support/client.ts';
import { ROOT, type ServerProcess, TEST_SECRET, startServerProcess, tempDir } from '../support/server.ts';

const temp = tempDir();
let server: ServerProcess;
beforeAll(async () => {
  server = await startServerProcess({ SQLITE_PATH: `${temp.dir}/chat.db` });
});
afterAll(async () => {
  await server?.stop();
  temp.remove();
});

/** Runs an npm script of this repository against the test server, as a developer would. */
async function npmRun(script: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn('npm', ['run', '-s', script], {
    cwd: ROOT,
    env: { ...process.env, CHAT_URL: server.url, AUTH_JWT_SECRET: TEST_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, output };
}

type Channels = AppOpenQuery['me']['organizations']['edges'][number]['node']['channels']['edges'][number]['node'][];

async function demoChannels(user: HttpUser): Promise<{ memberCount: number; channels: Channels }> {
  const { me } = await user.run(AppOpenDocument, {});
  const demo = me.organizations.edges.find((e) => e.node.name === 'Demo')!.node;
  const members = await user.run(`query($id: ID!) { organization(id: $id) { memberCount } }`, { id: demo.id });
  return { memberCount: (members as { organization: { memberCount: number } }).organization.memberCount, channels: demo.channels.edges.map((e) => e.node) };
}

describe('npm run seed, then npm run example', () => {
  let tokens: Record<string, string>;

  it('seeds a demo organization in which every user has unread messages, and prints their tokens', { timeout: 180_000 }, async () => {
    const { code, output } = await npmRun('seed');
    expect(code, output).toBe(0);
    const seeded = /Seeded the Demo organization \(\S+\): (\d+) members, (\d+) channels, (\d+) messages/.exec(output);
    expect(seeded, output).not.toBeNull();
    expect(Number(seeded![3])).toBeGreaterThanOrEqual(300);
    tokens = Object.fromEntries([...output.matchAll(/^ {2}(\w+) +(eyJ\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(tokens)).toEqual(['alice', 'bob', 'carol', 'dave', 'erin', 'frank']);

    for (const [sub, token] of Object.entries(tokens)) {
      const { memberCount, channels } = await demoChannels(new HttpUser(server.url, token, sub));
      expect(memberCount).toBe(6);
      expect(channels.reduce((sum, c) => sum + c.unreadCount, 0), sub).toBeGreaterThan(0);
      expect(channels.reduce((sum, c) => sum + c.mentionCount, 0), sub).toBeGreaterThan(0);
    }

    const again = await npmRun('seed');
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('The Demo organization exists already');
    expect(again.output).toMatch(/^ {2}alice +eyJ\S+$/m);
  });

  it('runs the example client to the end: badges, a channel and the page above, send, live, read, resume', { timeout: 120_000 }, async () => {
    const alice = new HttpUser(server.url, tokens.alice!, 'alice');
    const before = (await demoChannels(alice)).channels;
    const { code, output } = await npmRun('example', { TOKEN: tokens.alice! });
    expect(code, output).toBe(0);

    expect(output).toContain('app open: signed in as Alice');
    for (const c of before) {
      const mentions = `${c.mentionCount} mention${c.mentionCount === 1 ? '' : 's'}`;
      expect(output).toContain(`${c.kind === 'DIRECT' ? '@' : '#'}${c.name}: ${c.unreadCount} unread, ${mentions}`);
    }
    const opened = [...before].sort((a, b) => b.unreadCount - a.unreadCount)[0]!;
    expect(output).toMatch(new RegExp(`open #${opened.name}: 20 newest messages`));
    expect(output).toMatch(/scroll up: 20 older messages/);
    const sent = Number(/send: stored as #(\d+)/.exec(output)?.[1]);
    expect(output).toContain(`live: #${sent} Alice: hello from the example client`);
    expect(output).toContain(`mark read: #${opened.name} now 0 unread, 0 mentions`);
    expect(output).toContain(`resume after #${sent}: #${sent + 1} Alice: sent while the example client was offline (the message missed while offline)`);
    expect(output.trim().split('\n').at(-1)).toBe('done');

    const after = (await demoChannels(alice)).channels.find((c) => c.id === opened.id)!;
    expect(after).toMatchObject({ unreadCount: 0, lastReadSeq: sent + 1 });
  });
});
