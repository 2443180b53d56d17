// Who gets in and what an outsider learns: nothing. Unexpected failures are masked for clients.
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChannelMessagesDocument,
  MeDocument,
  MessageAddedDocument,
  OrganizationChannelsDocument,
  SendMessageDocument,
} from '../../operations/generated/graphql.ts';
import { HttpUser, Subscription, codes, wsClient } from '../support/client.ts';
import { TEST_SECRET, type TestServer, startServer } from '../support/server.ts';
import { channelOf, directChannel, joinByInvitation, organizationWith, send, signInUsers } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

async function post(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] },
  };
}

/** Opens a raw graphql-ws socket, sends connection_init, and resolves with the close code. */
function closeCodeOf(connectionParams: Record<string, unknown>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: connectionParams })));
    socket.on('close', (code) => resolve(code));
    socket.on('error', reject);
  });
}

describe('authentication', () => {
  it('provisions a user from the token on first sight', async () => {
    const user = await HttpUser.signIn(server.url, `newcomer-${Date.now()}`, 'newcomer');
    const { me } = await user.run(MeDocument);
    expect(me.name).toBe('newcomer');
  });

  const signed = (secret: string, expires: number | string) =>
    new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setExpirationTime(expires).sign(new TextEncoder().encode(secret));

  const REFUSED_TOKEN = 'Bearer error="invalid_token"';
  it.each([
    ['no token', async () => ({}), 'Bearer'],
    ['a malformed header', async () => ({ authorization: 'Token abc' }), 'Bearer'],
    ['a token signed with another secret', async () => ({ authorization: `Bearer ${await signed('another-secret-of-enough-length', '1h')}` }), REFUSED_TOKEN],
    ['an expired token', async () => ({ authorization: `Bearer ${await signed(TEST_SECRET, Math.floor(Date.now() / 1000) - 60)}` }), REFUSED_TOKEN],
  ])('refuses %s with UNAUTHENTICATED (HTTP 401) and a WWW-Authenticate challenge', async (_what, headers, challenge) => {
    const { status, challenge: sent, body } = await post({ query: '{ me { id } }' }, await headers());
    expect(status).toBe(401);
    expect(sent).toBe(challenge);
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(body.data ?? null).toBeNull();
  });

  it('lets anyone read the schema (introspection), nothing else', async () => {
    const { status, body } = await post({ query: '{ __schema { queryType { name } } }' });
    expect(status).toBe(200);
    expect(body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('closes a WebSocket without a valid token with 4403', async () => {
    expect(await closeCodeOf({})).toBe(4403);
    expect(await closeCodeOf({ authorization: 'Bearer not-a-jwt' })).toBe(4403);
  });
});

describe('an outsider', () => {
  it('sees nothing of an organization, its channels or messages, and changes nothing', async () => {
    const world = await organizationWith(server.url, ['ann', 'bob']);
    const { ann, bob } = world.users;
    const { mallory } = await signInUsers(server.url, ['mallory']);
    const design = await channelOf(world, ann!, 'design', [bob!]);
    const dm = await directChannel(world, ann!, bob!);
    const message = await send(ann!, design, 'the plan');

    const reads = [
      await mallory!.request(OrganizationChannelsDocument, { organizationId: world.orgId }),
      await mallory!.request(ChannelMessagesDocument, { channelId: design }),
      await mallory!.request(ChannelMessagesDocument, { channelId: dm }),
      await mallory!.request(`query($id: ID!) { node(id: $id) { id } }`, { id: world.orgId }),
      await mallory!.request(`query($id: ID!) { node(id: $id) { id ... on Message { text } } }`, { id: message.id }),
      await mallory!.request(`query($id: ID!) { node(id: $id) { id } }`, { id: ann!.id }),
    ];
    for (const result of reads) {
      expect(codes(result)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(result.data ?? null)).not.toMatch(/design|the plan|"ann"/);
    }
    // A member of the organization sees ann, but not a DM between ann and bob.
    const cat = (await signInUsers(server.url, ['cat'])).cat!;
    await joinByInvitation(world.orgId, ann!, cat);
    expect(codes(await cat.request(`query($id: ID!) { node(id: $id) { id } }`, { id: ann!.id }))).toEqual([]);
    expect(codes(await cat.request(ChannelMessagesDocument, { channelId: dm }))).toEqual(['NOT_FOUND']);

    const sendAttempt = await mallory!.request(SendMessageDocument, { input: { channelId: design, text: 'let me in' } });
    expect(codes(sendAttempt)).toEqual(['NOT_FOUND']);
    const seen = await ann!.run(ChannelMessagesDocument, { channelId: design });
    expect(seen.channel?.messages.edges.map((e) => e.node.text)).toEqual(['the plan']);
  });

  it('is refused a subscription to a channel, and receives nothing', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const { mallory } = await signInUsers(server.url, ['mallory']);
    const client = wsClient(server.wsUrl, mallory!.token);
    const subscription = new Subscription(client, MessageAddedDocument, { channelId: world.generalId });
    await subscription.settled();
    expect(JSON.stringify(subscription.errors)).toContain('NOT_FOUND');
    await send(world.users.ann!, world.generalId, 'members only');
    expect(subscription.events).toEqual([]);
    await client.dispose();
  });
});

describe('unexpected failures', () => {
  it('are masked for the client, with a request id to find them in the log', async () => {
    const broken = await startServer();
    const world = await organizationWith(broken.url, ['ann']);
    await broken.deps.store.close(); // the database goes away under the server
    const result = await world.users.ann!.request(OrganizationChannelsDocument, { organizationId: world.orgId });
    expect(result.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(result.errors?.[0]?.message).toBe('Unexpected error.');
    expect(result.errors?.[0]?.extensions?.requestId).toEqual(expect.any(String));
    expect(JSON.stringify(result)).not.toMatch(/sqlite|database/i);
    await broken.stop();
  });
});
