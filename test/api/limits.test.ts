// Limits that keep one client from hurting others: send rate, document depth and aliases,
// operations per connection. Each is refused with a code the client can act on
// (test/api/hostile-*.test.ts try the rest as an attacker would).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getNullableType, isInputObjectType, isListType, isObjectType } from 'graphql';
import {
  ChannelMessagesDocument,
  CreateChannelDocument,
  MessageAddedDocument,
  OrganizationChannelsDocument,
  PresenceChangedDocument,
  PresenceDocument,
  SendMessageDocument,
} from '../../operations/generated/graphql.ts';
import { schema } from '../../src/schema.ts';
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
    expect(codes(tooDeep)).toContain('GRAPHQL_VALIDATION_FAILED');
    expect(tooDeep.errors?.map((e) => e.message)).toContainEqual(expect.stringMatching(/^Query depth limit of 12 exceeded, found \d+\.$/));
    const aliases = Array.from({ length: 60 }, (_, i) => `a${i}: me { id }`).join(' ');
    const tooMany = await ann.request(`{ ${aliases} }`);
    expect(codes(tooMany)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(tooMany.errors?.[0]?.message).toBe('Aliases limit of 50 exceeded, found 60.');
    expect(tooMany.data ?? null).toBeNull();
  });

  it('bounds every list argument of the schema: one item too many is BAD_USER_INPUT, and stores nothing', async () => {
    // Every list a client may send, found in the schema: a new one must be bounded and tried here.
    const lists: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__')) continue;
      if (isObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          for (const arg of field.args) if (isListType(getNullableType(arg.type))) lists.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) if (isListType(getNullableType(field.type))) lists.push(`${type.name}.${field.name}`);
      }
    }
    expect(lists.sort()).toEqual([
      'CreateChannelInput.memberIds',
      'Query._entities(representations)',
      'Query.presence(userIds)',
      'SendMessageInput.mentionIds',
      'Subscription.presenceChanged(userIds)',
    ]);

    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const refused = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => result.errors?.map((e) => [e.extensions?.code, e.extensions?.field]);
    const ids = (count: number) => Array.from({ length: count }, () => bob!.id);
    expect(refused(await ann!.request(PresenceDocument, { userIds: ids(501) }))).toEqual([['BAD_USER_INPUT', 'userIds']]);
    const client = wsClient(server.wsUrl, ann!.token);
    const presenceChanged = new Subscription(client, PresenceChangedDocument, { userIds: ids(501) });
    await presenceChanged.settled();
    expect(JSON.stringify(presenceChanged.errors)).toContain('BAD_USER_INPUT');
    await client.dispose();
    const representations = Array.from({ length: 501 }, () => ({ __typename: 'User', id: bob!.id }));
    expect(refused(await ann!.request('query($r: [_Any!]!) { _entities(representations: $r) { __typename } }', { r: representations }))).toEqual([
      ['BAD_USER_INPUT', 'representations'],
    ]);
    const createChannel = await ann!.request(CreateChannelDocument, { input: { organizationId: world.orgId, name: 'crowded', memberIds: ids(501) } });
    expect(refused(createChannel)).toEqual([['BAD_USER_INPUT', 'memberIds']]);
    const sent = await ann!.request(SendMessageDocument, { input: { channelId: world.generalId, text: 'hi all', mentionIds: ids(51) } });
    expect(refused(sent)).toEqual([['BAD_USER_INPUT', 'mentionIds']]);

    const channels = await ann!.run(OrganizationChannelsDocument, { organizationId: world.orgId });
    expect(channels.organization?.channels.edges.map((e) => e.node.name)).toEqual(['general']);
    const messages = await ann!.run(ChannelMessagesDocument, { channelId: world.generalId });
    expect(messages.channel?.messages.edges).toEqual([]);
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
