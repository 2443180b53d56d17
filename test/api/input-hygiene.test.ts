// Text that reaches other people is made safe or refused: names from tokens are cleaned and
// bounded, organization names and messages must show something, and text that is not well-formed
// UTF-16 is refused, so what is stored is exactly what was acknowledged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AppOpenDocument,
  ChannelMessagesDocument,
  CreateOrganizationDocument,
  MeDocument,
  OrganizationMembersDocument,
  SendMessageDocument,
} from '../../operations/generated/graphql.ts';
import { HttpUser, Subscription, wsClient } from '../support/client.ts';
import { type TestServer, startServer } from '../support/server.ts';
import { type Member, joinByInvitation, organizationWith, send } from '../support/world.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.stop());

let run = 0;
/** A user signed in with whatever name claim their identity provider sent. */
async function signInAs(nameClaim: string): Promise<Member> {
  const user = await HttpUser.signIn(server.url, `claims-${process.pid}-${++run}`, nameClaim);
  const { me } = await user.run(MeDocument);
  return Object.assign(user, { id: me.id });
}

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

describe('names from tokens', () => {
  it('are cleaned of control, bidi and zero-width characters and bounded, for the user and every member', async () => {
    const hostile = `\u202eEvil\u001b[31m Admin\u200b\n${'x'.repeat(10_000)}`;
    const world = await organizationWith(server.url, ['ann']);
    const mallory = await signInAs(hostile);
    await joinByInvitation(world.orgId, world.users.ann!, mallory);
    const { me } = await mallory.run(MeDocument);
    expect(me.displayName).toBe(`Evil[31m Admin ${'x'.repeat(80 - 'Evil[31m Admin '.length)}`);
    expect([...me.displayName!]).toHaveLength(80);
    expect(me.name).toBe(`Evil31mAdmin${'x'.repeat(40 - 'Evil31mAdmin'.length)}`);
    const members = await world.users.ann!.run(OrganizationMembersDocument, { organizationId: world.orgId, first: 10 });
    const names = members.organization!.members.edges.map((e) => e.node.name);
    expect(names).toContain(me.name);
    for (const name of names) expect(name).not.toMatch(UNSAFE);
  });

  it('give the handle letters, digits, "." "_" "-" only; a name with nothing visible falls back to the subject', async () => {
    const spaced = await signInAs('Ann Lee-Smith (she/her) 👩‍💻');
    expect((await spaced.run(MeDocument)).me).toMatchObject({ name: 'AnnLee-Smithsheher', displayName: 'Ann Lee-Smith (she/her) 👩‍💻' });
    const invisible = await signInAs('\u200b\u200d\u3164 \u202e');
    const { me } = await invisible.run(MeDocument);
    expect(me).toMatchObject({ name: invisible.sub, displayName: null });
  });
});

describe('organization names', () => {
  it.each([
    ['NUL', 'Acme\u0000'],
    ['ESC', '\u001b[2JAcme'],
    ['a right-to-left override', 'Acme\u202eemcA'],
    ['a line break', 'Acme\nCorp'],
    ['only zero-width characters', '\u200b\u200c\u200d\ufeff'],
    ['only a Hangul filler', '\u3164'],
    ['only spaces', '   '],
    ['nothing', ''],
    ['81 characters', 'x'.repeat(81)],
    ['a lone surrogate', 'Acme \ud83d'],
  ])('refuses %s with BAD_USER_INPUT, creating nothing', async (_what, name) => {
    const world = await organizationWith(server.url, ['ann']);
    const ann = world.users.ann!;
    const result = await ann.request(CreateOrganizationDocument, { input: { name } });
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    const { me } = await ann.run(AppOpenDocument, {});
    expect(me.organizations.edges).toHaveLength(1);
  });

  it('accepts any visible name of up to 80 characters, emoji and right-to-left scripts included, trimmed', async () => {
    const world = await organizationWith(server.url, ['ann']);
    for (const [name, stored] of [[' 👩‍💻 Crew ', '👩‍💻 Crew'], ['שלום עולם', 'שלום עולם'], ['é'.repeat(80), 'é'.repeat(80)]]) {
      const result = await world.users.ann!.run(CreateOrganizationDocument, { input: { name: name! } });
      expect(result.createOrganization.name).toBe(stored);
    }
  });
});

describe('messages', () => {
  const history = async (user: Member, channelId: string) =>
    (await user.run(ChannelMessagesDocument, { channelId })).channel!.messages.edges.map((e) => e.node.text);

  it.each([
    ['only zero-width characters', { text: '\u200b\u200b\u2060' }, 'text'],
    ['only combining marks and fillers', { text: '\u0301\u0302 \u3164' }, 'text'],
    ['a lone high surrogate', { text: 'hi \ud83d there' }, 'text'],
    ['a lone low surrogate', { text: '\ude00' }, 'text'],
    ['a lone surrogate in clientMessageId', { text: 'hi', clientMessageId: 'id-\udfff' }, 'clientMessageId'],
  ])('refuses %s with BAD_USER_INPUT, storing nothing', async (_what, input, field) => {
    const world = await organizationWith(server.url, ['ann']);
    const result = await world.users.ann!.request(SendMessageDocument, { input: { channelId: world.generalId, ...input } });
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await history(world.users.ann!, world.generalId)).toEqual([]);
  });

  it('refuses a lone surrogate over the WebSocket too', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const client = wsClient(server.wsUrl, world.users.ann!.token, 'phone');
    const attempt = new Subscription(client, SendMessageDocument, { input: { channelId: world.generalId, text: '\ud800' } });
    await attempt.settled();
    expect(JSON.stringify(attempt.errors)).toContain('BAD_USER_INPUT');
    await client.dispose();
    expect(await history(world.users.ann!, world.generalId)).toEqual([]);
  });

  it('stores exactly what it acknowledged: emoji, joiners, right-to-left text, zero-width characters among visible ones', async () => {
    const world = await organizationWith(server.url, ['ann']);
    const text = '👩‍👩‍👧 שלום\u200b world 😀\u202b!';
    const acknowledged = await send(world.users.ann!, world.generalId, text);
    expect(acknowledged.text).toBe(text);
    expect(await history(world.users.ann!, world.generalId)).toEqual([text]);
  });
});
