// The server as a federation v2 subgraph: its SDL and entity resolution, authorized and batched
// through the loaders (through a gateway: gateway.test.ts).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/domain/ids.ts';
import { HttpUser, codes } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { channelOf, directChannel, organizationWith, send, signInUsers } from '../support/world.ts';
import { countCalls, serviceSdl } from './subgraph.ts';

const ENTITIES = /* GraphQL */ `
  query Entities($representations: [_Any!]!) {
    _entities(representations: $representations) {
      __typename
      ... on User { id name }
      ... on Organization { id name memberCount }
      ... on Channel { id name memberCount unreadCount }
      ... on Message { id seq text author { name } }
    }
  }
`;

type Entity = { __typename: string; id: string; name?: string; text?: string; unreadCount?: number };
type Entities = { _entities: (Entity | null)[] };

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());
describe('the subgraph', () => {
  it('serves its federation SDL (_service) without a token: the committed schema.graphql', async () => {
    const sdl = await serviceSdl(server.url);
    expect(`${sdl.trim()}\n`).toBe(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.6"');
    for (const entity of ['User', 'Organization', 'Channel', 'Message']) {
      expect(sdl).toMatch(new RegExp(`type ${entity} implements Node\\s+@key\\(fields: "id"\\)`));
    }
    for (const shared of ['PageInfo', 'ChannelConnection', 'ChannelEdge', 'MessageConnection', 'UserConnection']) {
      expect(sdl).toMatch(new RegExp(`type ${shared}\\s+@shareable`));
    }
  });

  it('resolves User, Organization, Channel and Message references the viewer may see', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const message = await send(bob!, world.generalId, 'hello entities');
    const { _entities } = await ann!.run<Entities, unknown>(ENTITIES, {
      representations: [
        { __typename: 'User', id: bob!.id },
        { __typename: 'Organization', id: world.orgId },
        { __typename: 'Channel', id: world.generalId },
        { __typename: 'Message', id: message.id },
      ],
    });
    expect(_entities).toEqual([
      { __typename: 'User', id: bob!.id, name: 'bob' },
      { __typename: 'Organization', id: world.orgId, name: 'Acme', memberCount: 2 },
      { __typename: 'Channel', id: world.generalId, name: 'general', memberCount: 2, unreadCount: 1 },
      { __typename: 'Message', id: message.id, seq: 1, text: 'hello entities', author: { name: 'bob' } },
    ]);
  });

  it('refuses references to what the viewer may not see, one by one', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const dm = await directChannel(world, ann!, bob!);
    const secret = await send(ann!, dm, 'between us');
    const design = await channelOf(world, ann!, 'design', [bob!]);
    const membersOnly = await send(ann!, design, 'for members');
    const { stranger } = await signInUsers(server.url, ['stranger']);
    const result = await cat!.request<Entities, unknown>(ENTITIES, {
      representations: [
        { __typename: 'Channel', id: world.generalId }, // cat's own #general: visible
        { __typename: 'Channel', id: dm }, // a DIRECT channel of others: not even there
        { __typename: 'Message', id: secret.id },
        { __typename: 'Message', id: membersOnly.id }, // a GROUP channel cat has not joined
        { __typename: 'User', id: stranger!.id }, // shares no organization with cat
      ],
    });
    expect(result.data?._entities.map((e) => e?.id ?? null)).toEqual([world.generalId, null, null, null, null]);
    expect(codes(result).sort()).toEqual(['FORBIDDEN', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    const outsider = await stranger!.request<Entities, unknown>(ENTITIES, {
      representations: [{ __typename: 'Organization', id: world.orgId }],
    });
    expect(outsider.data?._entities).toEqual([null]);
    expect(codes(outsider)).toEqual(['NOT_FOUND']);
    const anonymous = await new HttpUser(server.url, '', '').request(ENTITIES, { representations: [] });
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
  });

  it('fails each bad representation at its own index, and resolves the others', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const result = await ann!.request<Entities, unknown>(ENTITIES, {
      representations: [
        { __typename: 'Channel', id: world.generalId },
        { __typename: 'Channel', id: 'garbage' }, // not an id at all
        { __typename: 'Channel', id: bob!.id }, // the id of a User
        { __typename: 'Channel' }, // no id
        { __typename: 'Channel', id: toGlobalId('Channel', 'ch_nowhere') }, // no such channel
        { __typename: 'Bookmark', id: world.generalId }, // not an entity of this subgraph
        'not even an object',
        { __typename: 'User', id: bob!.id },
      ],
    });
    expect(result.data?._entities.map((e) => e?.id ?? null)).toEqual([world.generalId, null, null, null, null, null, null, bob!.id]);
    const byIndex = Object.fromEntries((result.errors ?? []).map((e) => [e.path?.[1], e.extensions?.code]));
    expect(byIndex).toEqual({ 1: 'BAD_USER_INPUT', 2: 'BAD_USER_INPUT', 3: 'BAD_USER_INPUT', 4: 'NOT_FOUND', 5: 'BAD_USER_INPUT', 6: 'BAD_USER_INPUT' });
  });

  it('resolves at most ENTITIES_MAX representations in one call', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const representations = Array.from({ length: 501 }, () => ({ __typename: 'Channel', id: world.generalId }));
    const TYPENAMES = 'query($r: [_Any!]!) { _entities(representations: $r) { __typename } }';
    const tooMany = await world.users.ann!.request<Entities, unknown>(TYPENAMES, { r: representations });
    expect(codes(tooMany)).toEqual(['BAD_USER_INPUT']);
    expect(tooMany.errors?.[0]?.message).toBe('Ask for at most 500 entities at once');
    const enough = await world.users.ann!.request<Entities, unknown>(TYPENAMES, { r: representations.slice(1) });
    expect(codes(enough)).toEqual([]);
    expect(enough.data?._entities).toHaveLength(500);
  });

  it('batches references through the loaders: N channels are one store read', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
    const { ann, bob, cat } = world.users;
    const channels = [world.generalId];
    for (const name of ['one', 'two', 'three', 'four']) channels.push(await channelOf(world, ann!, name, [bob!]));
    const counter = countCalls(server.deps.store, ['findChannelsByIds', 'findOrgMembers', 'findUsersByIds']);
    try {
      const { _entities } = await ann!.run<Entities, unknown>(ENTITIES, {
        representations: [
          ...channels.map((id) => ({ __typename: 'Channel', id })),
          { __typename: 'User', id: bob!.id },
          { __typename: 'User', id: cat!.id },
        ],
      });
      expect(_entities.map((e) => e?.name)).toEqual(['general', 'one', 'two', 'three', 'four', 'bob', 'cat']);
      expect(counter.calls.findChannelsByIds).toHaveLength(1);
      expect(counter.calls.findChannelsByIds![0]).toHaveLength(5);
      expect(counter.calls.findUsersByIds).toHaveLength(1);
      expect(counter.calls.findOrgMembers).toHaveLength(1);
    } finally {
      counter.restore();
    }
  });
});
