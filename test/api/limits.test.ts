// Limits that keep one client from hurting others: send rate, document depth and aliases,
// operations per connection. Each is refused with a code the client can act on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageAddedDocument, SendMessageDocument } from '../../operations/generated/graphql.ts';
import { Subscription, codes, wsClient } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { organizationWith, send } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ SEND_RATE_LIMIT: '5', SUBSCRIPTIONS_PER_CONNECTION: '2' });
});
afterAll(async () => server?.stop());

describe('limits', () => {
  it('refuses sends over the rate with RATE_LIMITED and when to retry, storing nothing', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    for (let i = 0; i < 5; i++) await send(ann!, world.generalId, `m${i}`);
    const refused = await ann!.request(SendMessageDocument, { input: { channelId: world.generalId, text: 'one too many' } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    // Another user is not held back by ann's rate.
    expect((await send(bob!, world.generalId, 'bob is fine')).seq).toBe(6);
  });

  it('refuses documents that are too deep or use too many aliases', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const ann = world.users.ann!;
    let deep = 'id';
    for (let i = 0; i < 7; i++) deep = `organizations { edges { node { members { edges { node { ${deep} } } } } } }`;
    const tooDeep = await ann.request(`{ me { ${deep} } }`);
    expect(codes(tooDeep)).toContain('BAD_USER_INPUT');
    const aliases = Array.from({ length: 60 }, (_, i) => `a${i}: me { id }`).join(' ');
    const tooMany = await ann.request(`{ ${aliases} }`);
    expect(codes(tooMany)).toContain('BAD_USER_INPUT');
    expect(tooMany.data ?? null).toBeNull();
  });

  it('caps the operations open on one WebSocket', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const client = wsClient(server.wsUrl, world.users.ann!.token);
    const open = [1, 2].map(() => new Subscription(client, MessageAddedDocument, { channelId: world.generalId, afterSeq: 0 }));
    await send(world.users.ann!, world.generalId, 'both hear this');
    await Promise.all(open.map((s) => s.waitFor(1)));
    const third = new Subscription(client, MessageAddedDocument, { channelId: world.generalId });
    await third.settled();
    expect(JSON.stringify(third.errors)).toContain('RATE_LIMITED');
    await client.dispose();
  });
});
