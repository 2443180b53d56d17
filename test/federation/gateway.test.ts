// The server as a federation v2 subgraph: its SDL and entity resolution (authorized, batched
// through the loaders), then composed with a second subgraph and served through the Hive gateway
// runtime, where queries, mutations and subscriptions carry the user's identity to the subgraph.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime, getGraphQLWSOptions, type GatewayRuntime } from '@graphql-hive/gateway-runtime';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { MessageAddedDocument, SendMessageDocument } from '../../operations/generated/graphql.ts';
import { fromGlobalId, toGlobalId } from '../../src/domain/ids.ts';
import type { Store } from '../../src/store/store.ts';
import { HttpUser, Subscription, codes, wsClient } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { channelOf, directChannel, organizationWith, send, signInUsers, type World } from '../support/world.ts';
import { testTransports } from './transports.ts';

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

/** Counts the store's calls of the given methods and the ids each was asked for. */
function countCalls(store: Store, methods: (keyof Store)[]) {
  const calls: Record<string, (readonly string[])[]> = {};
  const target = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const originals = methods.map((method) => [method, target[method]!, Object.getOwnPropertyDescriptor(target, method)] as const);
  for (const [method, original] of originals) {
    calls[method] = [];
    target[method] = (...args: unknown[]) => {
      calls[method]!.push(args[0] as readonly string[]);
      return original.apply(store, args);
    };
  }
  return {
    calls,
    restore: () => {
      for (const [method, , own] of originals) {
        if (own) Object.defineProperty(target, method, own);
        else delete target[method];
      }
    },
  };
}

/** The subgraph's SDL, asked as composition tools ask it: `_service { sdl }`, without a token. */
async function serviceSdl(url: string): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  const { data } = (await response.json()) as { data: { _service: { sdl: string } } };
  return data._service.sdl;
}

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

/** A second subgraph, as another team would write one: bookmarks that point at chat entities. */
const BOOKMARKS_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])

  type Query {
    bookmarks: [Bookmark!]!
  }

  type Bookmark {
    note: String!
    organization: Organization
    channel: Channel
    message: Message
    savedBy: User
  }

  type User @key(fields: "id", resolvable: false) { id: ID! }
  type Organization @key(fields: "id", resolvable: false) { id: ID! }
  type Channel @key(fields: "id", resolvable: false) { id: ID! }
  type Message @key(fields: "id", resolvable: false) { id: ID! }
`;

type Bookmark = { note: string; organization?: { id: string }; channel?: { id: string }; message?: { id: string }; savedBy?: { id: string } };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

describe('through the Hive gateway', () => {
  const bookmarks: Bookmark[] = [];
  let bookmarksServer: Server;
  let gateway: GatewayRuntime;
  let gatewayServer: Server;
  let gatewayUrl: string;
  let gatewayWsUrl: string;
  let world: World;

  beforeAll(async () => {
    const bookmarksYoga = createYoga({
      schema: buildSubgraphSchema([{ typeDefs: parse(BOOKMARKS_SDL), resolvers: { Query: { bookmarks: () => bookmarks } } }]),
      graphiql: false,
      logging: false,
    });
    bookmarksServer = createServer(bookmarksYoga);
    const bookmarksUrl = await listen(bookmarksServer);

    // The chat subgraph's SDL as a composition pipeline fetches it: _service, no token.
    const composed = composeServices([
      { name: 'chat', typeDefs: parse(await serviceSdl(server.url)), url: server.url },
      { name: 'bookmarks', typeDefs: parse(BOOKMARKS_SDL), url: bookmarksUrl },
    ]);
    expect(composed.errors ?? []).toEqual([]);

    gateway = createGatewayRuntime({
      supergraph: parse(composed.supergraphSdl!),
      transports: testTransports,
      transportEntries: {
        chat: {
          // Queries and mutations: the client's Authorization header, passed on.
          headers: [['authorization', '{context.headers.authorization}']],
          options: {
            // Subscriptions: graphql-ws on the subgraph's /graphql, the client's identity in
            // connectionParams (for WebSocket clients the gateway merges their connectionParams
            // into context.headers).
            subscriptions: {
              kind: 'ws',
              location: '/graphql',
              options: {
                connectionParams: {
                  authorization: '{context.headers.authorization}',
                  deviceId: '{context.connectionParams.deviceId}',
                },
              },
            },
          },
        },
      },
      graphiql: false,
      landingPage: false,
      logging: false,
    });
    gatewayServer = createServer(gateway);
    gatewayUrl = await listen(gatewayServer);
    gatewayWsUrl = gatewayUrl.replace('http', 'ws');
    const wsServer = new WebSocketServer({ server: gatewayServer, path: '/graphql' });
    useServer(
      getGraphQLWSOptions<Record<string, unknown>, Extra>(gateway, (ctx) => ({ req: ctx.extra.request, socket: ctx.extra.socket })),
      wsServer,
    );

    world = await organizationWith(server.url, ['ann', 'bob', 'cat']);
  });

  afterAll(async () => {
    await gateway?.dispose();
    gatewayServer?.closeAllConnections();
    bookmarksServer?.closeAllConnections();
    await Promise.all([gatewayServer, bookmarksServer].map((s) => s && new Promise((resolve) => s.close(resolve))));
  });

  it('resolves chat entities for another subgraph, as the signed-in user, in one batch', async () => {
    const { ann, bob, cat } = world.users;
    const design = await channelOf(world, ann!, 'design', [bob!]);
    const hello = await send(bob!, design, 'hi from design');
    const dm = await directChannel(world, ann!, bob!);
    bookmarks.splice(
      0,
      bookmarks.length,
      { note: 'the team', organization: { id: world.orgId }, channel: { id: world.generalId }, savedBy: { id: ann!.id } },
      { note: 'design talk', channel: { id: design }, message: { id: hello.id }, savedBy: { id: bob!.id } },
      { note: 'private', channel: { id: dm } },
    );
    const query = /* GraphQL */ `
      {
        bookmarks {
          note
          organization { name }
          channel { name unreadCount }
          message { text author { name } }
          savedBy { name }
        }
      }
    `;
    const counter = countCalls(server.deps.store, ['findChannelsByIds']);
    let asAnn;
    try {
      asAnn = await new HttpUser(gatewayUrl, ann!.token, ann!.sub).run<{ bookmarks: unknown[] }, unknown>(query);
      // Three Channel references, one store read: the gateway sends them in one _entities call.
      expect(counter.calls.findChannelsByIds).toHaveLength(1);
      expect([...counter.calls.findChannelsByIds![0]!].sort()).toEqual(
        [world.generalId, design, dm].map((id) => fromGlobalId(id).id).sort(),
      );
    } finally {
      counter.restore();
    }
    expect(asAnn.bookmarks).toEqual([
      { note: 'the team', organization: { name: 'Acme' }, channel: { name: 'general', unreadCount: 0 }, message: null, savedBy: { name: 'ann' } },
      { note: 'design talk', organization: null, channel: { name: 'design', unreadCount: 1 }, message: { text: 'hi from design', author: { name: 'bob' } }, savedBy: { name: 'bob' } },
      { note: 'private', organization: null, channel: { name: 'bob', unreadCount: 0 }, message: null, savedBy: null },
    ]);
    // The same bookmarks seen by cat: what cat may not see is null, with the subgraph's reasons.
    const asCat = await new HttpUser(gatewayUrl, cat!.token, cat!.sub).request<{ bookmarks: { channel: unknown; message: unknown }[] }, unknown>(query);
    expect(asCat.data?.bookmarks.map((b) => [b.channel === null, b.message === null])).toEqual([
      [false, true],
      [false, true], // #design: a channel of cat's organization, but its messages are for members (FORBIDDEN)
      [true, true], // a DIRECT channel of others (NOT_FOUND)
    ]);
    expect(new Set(codes(asCat))).toEqual(new Set(['FORBIDDEN', 'NOT_FOUND']));
  });

  it('gets the chat entities that resolve when another one of the batch is malformed', async () => {
    const { ann } = world.users;
    bookmarks.splice(0, bookmarks.length, { note: 'the team', channel: { id: world.generalId } }, { note: 'broken', channel: { id: 'garbage' } });
    const result = await new HttpUser(gatewayUrl, ann!.token, ann!.sub).request<{ bookmarks: { note: string; channel: { name: string } | null }[] }, unknown>(
      '{ bookmarks { note channel { name } } }',
    );
    expect(result.data?.bookmarks).toEqual([
      { note: 'the team', channel: { name: 'general' } },
      { note: 'broken', channel: null },
    ]);
    expect(codes(result)).toEqual(['BAD_USER_INPUT']);
  });

  it('streams messageAdded to a member with their identity, and refuses a non-member', async () => {
    const { ann, bob, cat } = world.users;
    const ops = await channelOf(world, ann!, 'ops', [bob!]);
    const bobAtGateway = wsClient(gatewayWsUrl, bob!.token, 'bob-laptop');
    const catAtGateway = wsClient(gatewayWsUrl, cat!.token, 'cat-laptop');
    const anonymous = wsClient(gatewayWsUrl, null);
    const viewerFields = /* GraphQL */ `
      subscription ($channelId: ID!) {
        messageAdded(channelId: $channelId, afterSeq: 0) { seq text author { name } channel { name lastReadSeq } }
      }
    `;
    type Added = { messageAdded: { seq: number; text: string; author: { name: string }; channel: { name: string; lastReadSeq: number } } };
    const bobs = new Subscription<Added>(bobAtGateway, viewerFields, { channelId: ops });
    const cats = new Subscription<Added>(catAtGateway, MessageAddedDocument, { channelId: ops });
    const nobodys = new Subscription<Added>(anonymous, MessageAddedDocument, { channelId: ops });
    try {
      // Sent through the gateway too: a mutation with ann's Authorization header.
      const sent = await new HttpUser(gatewayUrl, ann!.token, ann!.sub).run(SendMessageDocument, { input: { channelId: ops, text: 'deploy at 5' } });
      expect(sent.sendMessage).toMatchObject({ seq: 1, author: { name: 'ann' } });
      const [event] = await bobs.waitFor(1);
      // lastReadSeq is bob's own read marker: the subgraph knows the subscriber is bob.
      expect(event!.messageAdded).toEqual({ seq: 1, text: 'deploy at 5', author: { name: 'ann' }, channel: { name: 'ops', lastReadSeq: 0 } });
      await Promise.all([cats.settled(), nobodys.settled()]);
      expect(cats.events).toEqual([]);
      expect(JSON.stringify(cats.errors)).toContain('FORBIDDEN');
      // Without a token the subgraph refuses the gateway's connection for that client (4403).
      expect(nobodys.events).toEqual([]);
      expect(JSON.stringify(nobodys.errors)).toContain('4403');
      await send(ann!, ops, 'second');
      const events = await bobs.waitFor(2);
      expect(events.map((e) => e.messageAdded.text)).toEqual(['deploy at 5', 'second']);
    } finally {
      bobs.stop();
      await Promise.all([bobAtGateway.dispose(), catAtGateway.dispose(), anonymous.dispose()]);
    }
  });
});
