// The server as an operator runs it: a real process on a SQLite file. It stops cleanly on SIGTERM,
// and after kill -9 a new process on the same file still has every message.
import { afterAll, describe, expect, it } from 'vitest';
import { ChannelMessagesAfterDocument } from '../../operations/generated/graphql.ts';
import { startServerProcess, tempDir } from '../support/server.ts';
import { organizationWith, send } from '../support/world.ts';

const temp = tempDir();
afterAll(() => temp.remove());

describe('a server process', () => {
  it('keeps every message across kill -9 and a restart on the same SQLite file', async () => {
    const env = { SQLITE_PATH: `${temp.dir}/chat.db` };
    const first = await startServerProcess(env);
    const world = await organizationWith(first.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    for (let i = 1; i <= 40; i++) await send(i % 2 ? ann! : bob!, world.generalId, `m${i}`);
    await first.kill();

    const second = await startServerProcess(env);
    const read = await bob!.at(second.url).run(ChannelMessagesAfterDocument, { channelId: world.generalId, first: 100 });
    expect(read.channel?.messages.edges.map((e) => e.node.text)).toEqual(
      Array.from({ length: 40 }, (_, i) => `m${i + 1}`),
    );
    expect(await second.stop()).toBe(0);
    expect(second.output()).toContain('stopped');
  });
});
