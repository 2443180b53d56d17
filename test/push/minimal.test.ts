// PUSH_CONTENT=minimal: devices are still told, with the ids and counts an app needs to fetch the
// rest, but no message text (and no name) leaves the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess, tempDir } from '../support/server.ts';
import { waitUntil } from '../support/wait.ts';
import { channelOf, directChannel, organizationWith, send } from '../support/world.ts';
import { type PushWorld, registerBrowser, registerPhone, startPushWorld } from './push-world.ts';

describe('push notifications with PUSH_CONTENT=minimal', () => {
  let world: PushWorld;
  let server: ServerProcess;
  let temp: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    world = await startPushWorld();
    temp = tempDir();
    server = await startServerProcess(world.env({ SQLITE_PATH: `${temp.dir}/chat.db`, PUSH_DELAY_MS: '1000', PUSH_CONTENT: 'minimal', LOG_LEVEL: 'warn' }));
  });
  afterAll(async () => {
    await server?.stop();
    await world?.close();
    temp?.remove();
  });

  it('tells devices which message and how many are unread, without its text or any name', async () => {
    const org = await organizationWith(server.url, ['alice', 'bob']);
    const { alice, bob } = org.users;
    const browser = await registerBrowser(world, bob!);
    const phone = await registerPhone(world, bob!);
    const channelId = await channelOf(org, alice!, 'payroll', [bob!]);
    const dm = await directChannel(org, alice!, bob!);
    const mention = await send(alice!, channelId, 'salaries are in the sheet @bob', { mentionIds: [bob!.id] });
    const direct = await send(alice!, dm, 'the secret word is swordfish');
    await waitUntil(() => browser.requests().length === 2 && phone.requests().length === 2, 'two pushes on each device');

    const texts = [...browser.requests().map((r) => browser.subscriber.decrypt(r.body)), ...phone.requests().map((r) => r.body.toString('utf8'))];
    for (const text of texts) expect(text).not.toMatch(/salaries|swordfish|alice|payroll/);
    const byMessage = (a: { messageId: string }, b: { messageId: string }) => a.messageId.localeCompare(b.messageId);
    expect(browser.payloads().sort(byMessage)).toEqual(
      [
        { kind: 'MESSAGE', channelId, messageId: mention.id, seq: mention.seq, sentAt: mention.sentAt, unreadCount: 1, mentionCount: 1, mentioned: true },
        { kind: 'MESSAGE', channelId: dm, messageId: direct.id, seq: direct.seq, sentAt: direct.sentAt, unreadCount: 1, mentionCount: 0, mentioned: false },
      ].sort(byMessage),
    );
    const notifications = phone.notifications().sort((a, b) => a.event_id!.localeCompare(b.event_id!));
    expect(notifications).toEqual(
      [
        { event_id: mention.id, room_id: channelId, prio: 'high', counts: { unread: 1, mentions: 1 }, devices: [expect.objectContaining({ data: { format: 'event_id_only' } })] },
        { event_id: direct.id, room_id: dm, prio: 'high', counts: { unread: 1 }, devices: [expect.objectContaining({ data: { format: 'event_id_only' } })] },
      ].sort((a, b) => a.event_id.localeCompare(b.event_id)),
    );
  });
});
