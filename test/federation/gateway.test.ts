// The server composed with a second subgraph and served through the Hive gateway runtime, where
// queries, mutations and subscriptions carry the user's identity to the subgraph.
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
import { fromGlobalId } from '../../src/domain/ids.ts';
import { HttpUser, Subscription, codes, wsClient } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { channelOf, directChannel, organizationWith, send, type World } from '../support/world.ts';
import { countCalls, serviceSdl } from './subgraph.ts';
import { testTransports } from './transports.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());
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
