// npm run seed: fills a demo organization through the API of a running server (npm start first):
// six people who joined by invitation, group channels and a direct one, a few hundred messages
// with @mentions, and read markers left at different places, so every user has real badges.
// Prints a development token for each user. CHAT_URL defaults to http://localhost:<PORT>/graphql;
// tokens are signed with AUTH_JWT_SECRET (the development secret when unset), as the server checks them.
import { signToken } from '../src/auth/tokens.ts';
import { loadConfig } from '../src/config.ts';
import { ApiError, ChatHttp } from '../examples/http.ts';
import {
  AcceptInvitationDocument,
  AppOpenDocument,
  CreateChannelDocument,
  CreateOrganizationDocument,
  InviteToOrganizationDocument,
  MarkChannelReadDocument,
  MeDocument,
  OpenDirectChannelDocument,
  SendMessageDocument,
} from '../operations/generated/graphql.ts';

const ORGANIZATION = 'Demo';
const PEOPLE = [
  ['alice', 'Alice'],
  ['bob', 'Bob'],
  ['carol', 'Carol'],
  ['dave', 'Dave'],
  ['erin', 'Erin'],
  ['frank', 'Frank'],
] as const;
type Handle = (typeof PEOPLE)[number][0];

const config = loadConfig();
const url = process.env.CHAT_URL ?? `http://localhost:${config.port}/graphql`;

/** Runs a write, waiting out RATE_LIMITED as a well-behaved client does. */
async function politely<T>(write: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'RATE_LIMITED') throw error;
      await new Promise((resolve) => setTimeout(resolve, (error.retryAfterSeconds ?? 1) * 1000));
    }
  }
}

const tokens = Object.fromEntries(
  await Promise.all(PEOPLE.map(async ([sub, name]) => [sub, await signToken({ sub, name }, config.jwtSecret)] as const)),
) as Record<Handle, string>;
const as = Object.fromEntries(PEOPLE.map(([sub]) => [sub, new ChatHttp(url, tokens[sub])])) as Record<Handle, ChatHttp>;

// Everyone signs in once (users are created on first sight); this also finds out whether the server answers.
const ids = {} as Record<Handle, string>;
try {
  for (const [sub] of PEOPLE) ids[sub] = (await as[sub].request(MeDocument, {})).me.id;
} catch (error) {
  const reason = error instanceof ApiError ? error.message : `${(error as Error).message} (${String((error as Error).cause ?? '')})`;
  console.error(`seed: cannot use the server at ${url}: ${reason}`);
  console.error('Start it first (npm start), with the same AUTH_JWT_SECRET, or set CHAT_URL.');
  process.exit(1);
}

const existing = (await as.alice.request(AppOpenDocument, {})).me.organizations.edges.find((e) => e.node.name === ORGANIZATION);
if (existing) {
  console.log(`The ${ORGANIZATION} organization exists already (${existing.node.id}); nothing added.`);
} else {
  await seed();
}

console.log('\nTokens (in GraphiQL\'s Headers tab: {"Authorization": "Bearer <token>"}):');
for (const [sub] of PEOPLE) console.log(`  ${sub.padEnd(6)} ${tokens[sub]}`);
console.log(`\nOpen ${url} and run, as anyone:
  { me { organizations { edges { node { name channels { edges { node { name unreadCount mentionCount } } } } } } } }`);

async function seed(): Promise<void> {
  const { createOrganization: org } = await as.alice.request(CreateOrganizationDocument, { input: { name: ORGANIZATION } });
  const general = org.channels.edges[0]!.node.id;
  for (const [sub] of PEOPLE.slice(1)) {
    const { inviteToOrganization: invitation } = await politely(() =>
      as.alice.request(InviteToOrganizationDocument, { input: { organizationId: org.id, userId: ids[sub] } }),
    );
    await politely(() => as[sub].request(AcceptInvitationDocument, { input: { invitationId: invitation.id } }));
  }

  const channel = async (by: Handle, name: string, members: Handle[]) =>
    (await politely(() => as[by].request(CreateChannelDocument, { input: { organizationId: org.id, name, memberIds: members.map((m) => ids[m]) } })))
      .createChannel.id;
  const { openDirectChannel: direct } = await politely(() =>
    as.bob.request(OpenDirectChannelDocument, { input: { organizationId: org.id, userId: ids.alice } }),
  );
  /**
   * Each room's conversation: `count` messages; in the last `tail` of them the `away` members say
   * nothing and are mentioned, so they come back to unread messages and mentions; `readHalf`
   * members have read half of that tail since.
   */
  const rooms: { name: string; id: string; members: Handle[]; count: number; tail: number; away: Handle[]; readHalf: Handle[] }[] = [
    { name: 'general', id: general, members: PEOPLE.map(([sub]) => sub), count: 150, tail: 30, away: ['alice', 'dave', 'frank'], readHalf: ['dave'] },
    { name: 'engineering', id: await channel('bob', 'engineering', ['alice', 'carol', 'dave']), members: ['bob', 'alice', 'carol', 'dave'], count: 60, tail: 12, away: ['alice', 'carol'], readHalf: [] },
    { name: 'design', id: await channel('erin', 'design', ['alice', 'frank']), members: ['erin', 'alice', 'frank'], count: 60, tail: 8, away: ['frank'], readHalf: [] },
    { name: 'random', id: await channel('frank', 'random', ['alice', 'bob', 'carol', 'dave', 'erin']), members: ['frank', 'alice', 'bob', 'carol', 'dave', 'erin'], count: 60, tail: 20, away: ['alice', 'bob', 'erin'], readHalf: ['bob'] },
    { name: 'direct', id: direct.id, members: ['bob', 'alice'], count: 20, tail: 4, away: ['alice'], readHalf: [] },
  ];

  // A conversation from templates: who speaks and whom they mention follow a fixed pattern, so every
  // run gives the same badges.
  const lines = [
    'morning everyone',
    '@{other} could you take a look at this?',
    'the build is green again',
    'thanks @{other}!',
    'lunch at noon?',
    'pushed a fix, @{other} please review',
    '@channel standup in 5 minutes',
    'agreed',
    'notes are in the doc',
    'I will pick this up tomorrow',
  ];
  let sent = 0;
  for (const room of rooms) {
    for (let i = 0; i < room.count; i++) {
      const inTail = i >= room.count - room.tail;
      const speakers = inTail ? room.members.filter((m) => !room.away.includes(m)) : room.members;
      const author = speakers[(i * 7 + 3) % speakers.length]!;
      const others = (inTail ? room.away : room.members).filter((m) => m !== author);
      const other = others[(i * 5) % others.length]!;
      const template = lines[i % lines.length]!;
      if (room.name === 'direct' && template.startsWith('@channel')) continue;
      await politely(() => as[author].request(SendMessageDocument, { input: { channelId: room.id, text: template.replace('{other}', other) } }));
      sent += 1;
    }
    for (const member of room.readHalf) {
      const throughSeq = room.count - Math.floor(room.tail / 2);
      await politely(() => as[member].request(MarkChannelReadDocument, { input: { channelId: room.id, throughSeq } }));
    }
  }
  console.log(`Seeded the ${ORGANIZATION} organization (${org.id}): ${PEOPLE.length} members, ${rooms.length} channels, ${sent} messages.`);
}
