// Start-up against MongoDB deployments that cannot be used: each failure stops a real server
// process with exit code 1 and one line saying what failed and what to do. The deployments are a
// closed port, and a scripted wire-protocol endpoint (test/support/mongo-wire.ts) that the real
// driver talks to, failing the way a server does; the mingo stand-in plays deployments whose own
// state makes index creation fail.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Document } from 'mongodb';
import { type Answer, scriptedMongo } from '../support/mongo-wire.ts';
import { MingoDb } from '../support/mingo-db.ts';
import { shardKeys } from '../../src/store/mongo/layout.ts';
import { runServerProcessToExit } from '../support/server.ts';
import { standIn, startOn } from './mongo-stand-in.ts';

/** Runs the compiled server with env until it exits; its exit code and the lines it printed to stderr. */
async function runToExit(env: Record<string, string>): Promise<{ code: number | null; errors: string[]; output: string }> {
  const { code, stdout, stderr } = await runServerProcessToExit(env, 60_000);
  return { code, errors: stderr.split('\n').filter((line) => line !== ''), output: stdout + stderr };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts a server process against a scripted MongoDB; what it printed and how it ended. */
async function startAgainst(script: (command: Document) => Answer | undefined, env: Record<string, string> = {}, userinfo = '') {
  const mongo = await scriptedMongo(script, userinfo);
  try {
    const run = await runToExit({ MONGODB_URL: mongo.url, MONGODB_TIMEOUT_MS: '3000', ...env });
    return { ...run, host: `127.0.0.1:${mongo.port}` };
  } finally {
    await mongo.close();
  }
}

const failIndex = (name: string, answer: Answer) => (command: Document) =>
  command.createIndexes && (command.indexes as Document[])[0]!.name === name ? answer : undefined;

describe('MongoDB start-up failures (real server processes)', () => {
  it('an unreachable server: exit 1 within seconds, naming the host but not the credentials', async () => {
    const port = await closedPort();
    const started = Date.now();
    const { code, errors } = await runToExit({ MONGODB_URL: `mongodb://ann:s3cret@127.0.0.1:${port}/chat`, MONGODB_TIMEOUT_MS: '2000' });
    expect(code).toBe(1);
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^cannot start: cannot reach MongoDB at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`))]);
    expect(errors.join('\n')).not.toMatch(/s3cret|ann:/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('refused credentials: says so, and what to check', async () => {
    const refuse = (command: Document) =>
      'saslStart' in command ? { ok: 0, errmsg: 'Authentication failed.', code: 18, codeName: 'AuthenticationFailed' } : undefined;
    const { code, errors, host } = await startAgainst(refuse, {}, 'ann:s3cret@');
    expect(code).toBe(1);
    expect(errors).toEqual([
      `cannot start: cannot sign in to MongoDB at ${host}: Authentication failed. (check the user, password and authSource of MONGODB_URL)`,
    ]);
  });

  it('an index of the same name with another definition: names it and says how to replace it', async () => {
    const message = 'An existing index has the same name as the requested index. Requested index: ..., existing index: ...';
    const { code, errors, host } = await startAgainst(failIndex('channelName', { ok: 0, errmsg: message, code: 86, codeName: 'IndexKeySpecsConflict' }));
    expect(code).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^cannot start: MongoDB at ${host}: index conflict on channels: index channelName differs from the declared channelName`));
    expect(errors[0]).toContain("drop it (db.channels.dropIndex('channelName')) and start again");
  });

  it('a unique index over documents that collide: says which index and what to remove', async () => {
    const answer = { ok: 0, errmsg: 'E11000 duplicate key error collection: chat.channelMembers index: channelId_1_userId_1', code: 11000, codeName: 'DuplicateKey', keyValue: { channelId: 'c1', userId: 'u1' } };
    const { code, errors, host } = await startAgainst(failIndex('channelId_1_userId_1', answer));
    expect(code).toBe(1);
    expect(errors).toEqual([
      `cannot start: MongoDB at ${host}: cannot build the unique index channelId_1_userId_1 {"channelId":1,"userId":1} unique on channelMembers: ` +
        'documents already share a key ({"channelId":"c1","userId":"u1"}); remove the duplicates and start again',
    ]);
  });

  it('an index build that is still running: stops waiting after MONGODB_INDEX_BUILD_WAIT_MS and says so', async () => {
    const { code, errors, host } = await startAgainst(failIndex('channelMentions', 'never'), { MONGODB_INDEX_BUILD_WAIT_MS: '500' });
    expect(code).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^cannot start: MongoDB at ${host}: index channelMentions of messages is still being built after 500 ms; the build goes on in the server`));
  });
});

describe('MongoDB start-up failures (mingo stand-in)', () => {
  it('the declared key pattern under another name: names the other index', async () => {
    const db = standIn('replica set');
    await db.collection('orgMembers').createIndex({ orgId: 1, userId: 1 }, { name: 'byOrgAndUser', unique: true });
    await expect(startOn(db)).rejects.toThrow(
      /^index conflict on orgMembers: index byOrgAndUser differs from the declared orgId_1_userId_1 .*drop it \(db\.orgMembers\.dropIndex\('byOrgAndUser'\)\)/,
    );
  });

  it('a collection sharded on another key than the plan\'s: its unique index cannot be created', async () => {
    const db = new MingoDb({ topology: 'sharded cluster', shardKeys: { ...shardKeys(), channelMembers: { userId: 'hashed' } } });
    await expect(startOn(db)).rejects.toThrow(/^cannot create index channelId_1_userId_1 .* on channelMembers: cannot create unique index over .*check how channelMembers is sharded/);
  });

  it('an index build that never ends: stops waiting, naming the index', async () => {
    const db = standIn('standalone');
    db.endlessBuilds.add('userChannels.userId_1_orgId_1_channelId_1');
    await expect(startOn(db, 200)).rejects.toThrow(/^index userId_1_orgId_1_channelId_1 of userChannels is still being built after 200 ms/);
  });
});
