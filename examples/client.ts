// A small chat client, as an app would be written against this server: app open with badges, open
// a channel and scroll up, send, mark read, live messages over graphql-ws, and resuming the live
// stream after a disconnect with afterSeq (no gap, no duplicate). It prints what it does and exits.
//
//   npm run seed                                     # a demo organization, and tokens for its users
//   TOKEN=<a token> npm run example                  # CHAT_URL defaults to http://localhost:4000/graphql
import { randomUUID } from 'node:crypto';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws'; // Node 20 has no WebSocket of its own (Node 22 and later, and browsers, do)
import {
  AppOpenDocument,
  type AppOpenQuery,
  ChannelMessagesDocument,
  CreateOrganizationDocument,
  MarkChannelReadDocument,
  MessageAddedDocument,
  type MessageAddedSubscription,
  SendMessageDocument,
} from '../operations/generated/graphql.ts';
import { ChatHttp } from './http.ts';

const url = process.env.CHAT_URL ?? 'http://localhost:4000/graphql';
const token = process.env.TOKEN;
if (!token) {
  console.error('TOKEN is unset. Run `npm run seed` and take a token it prints (or `npm run -s token -- alice Alice`), then:');
  console.error('  TOKEN=<token> npm run example');
  process.exit(2);
}
const api = new ChatHttp(url, token);

type Message = MessageAddedSubscription['messageAdded'];
const line = (m: Message) => `#${m.seq} ${m.author.name}: ${m.text}`;
const badges = (c: { unreadCount: number; mentionCount: number }) =>
  `${c.unreadCount} unread, ${c.mentionCount} mention${c.mentionCount === 1 ? '' : 's'}`;

/** Rejects when the promise takes longer than ms: a client must not wait forever. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A live stream of one channel's messages after afterSeq, on its own WebSocket (one device). */
function follow(channelId: string, afterSeq: number) {
  const ws: Client = createClient({
    url: url.replace(/^http/, 'ws'),
    connectionParams: { authorization: `Bearer ${token}`, deviceId: 'example-client' },
    webSocketImpl: WebSocket,
  });
  const stream = ws.iterate<MessageAddedSubscription>({ query: print(MessageAddedDocument), variables: { channelId, afterSeq } });
  return {
    async next(): Promise<Message> {
      const { value, done } = await within(stream.next(), 10_000, 'the next live message');
      if (done || !value.data) throw new Error(`the live stream ended: ${JSON.stringify(value?.errors ?? null)}`);
      return value.data.messageAdded;
    },
    async close() {
      await stream.return?.();
      await ws.dispose();
    },
  };
}

async function appOpen(): Promise<AppOpenQuery['me']> {
  const { me } = await api.request(AppOpenDocument, {});
  if (me.organizations.edges.length > 0) return me;
  console.log('no organization yet: creating one');
  await api.request(CreateOrganizationDocument, { input: { name: `${me.name}'s team` } });
  return (await api.request(AppOpenDocument, {})).me;
}

// 1. App open: every organization and channel with its badges, in one request.
const me = await appOpen();
console.log(`app open: signed in as ${me.name}`);
for (const { node: org } of me.organizations.edges) {
  console.log(`  ${org.name}`);
  for (const { node: c } of org.channels.edges) {
    console.log(`    ${c.kind === 'DIRECT' ? '@' : '#'}${c.name}: ${badges(c)}`);
  }
}

// 2. Open a channel (the one with the most unread messages): its newest page.
const channels = me.organizations.edges.flatMap((org) => org.node.channels.edges.map((e) => e.node));
const channel = [...channels].sort((a, b) => b.unreadCount - a.unreadCount)[0]!;
const newest = (await api.request(ChannelMessagesDocument, { channelId: channel.id, last: 20 })).channel!.messages;
const shown = newest.edges.map((e) => e.node);
console.log(`open #${channel.name}: ${shown.length} newest messages${shown.length ? ` (#${shown[0]!.seq} to #${shown.at(-1)!.seq})` : ''}`);
for (const message of shown.slice(-3)) console.log(`  ${line(message)}`);

// 3. Scroll up: the page before the oldest message shown.
if (newest.pageInfo.hasPreviousPage) {
  const older = (await api.request(ChannelMessagesDocument, { channelId: channel.id, last: 20, before: newest.pageInfo.startCursor }))
    .channel!.messages.edges.map((e) => e.node);
  console.log(`scroll up: ${older.length} older messages (#${older[0]!.seq} to #${older.at(-1)!.seq})`);
} else {
  console.log('scroll up: nothing older');
}

// 4. Live: follow the channel from the newest message shown, then send; the message arrives live too.
let lastSeen = shown.at(-1)?.seq ?? 0;
const live = follow(channel.id, lastSeen);
const { sendMessage: sent } = await api.request(SendMessageDocument, {
  input: { channelId: channel.id, text: 'hello from the example client', clientMessageId: randomUUID() },
});
console.log(`send: stored as #${sent.seq}`);
for (let received = await live.next(); ; received = await live.next()) {
  console.log(`live: ${line(received)}`);
  lastSeen = received.seq;
  if (received.seq >= sent.seq) break;
}

// 5. Mark read: the badge clears on every device of the user.
const { markChannelRead: read } = await api.request(MarkChannelReadDocument, { input: { channelId: channel.id, throughSeq: sent.seq } });
console.log(`mark read: #${read.name} now ${badges(read)}`);

// 6. Resume: the connection drops, a message is sent meanwhile, and a new connection asks for
//    everything after the last seq it saw: the missed message comes first, with no gap.
await live.close();
const { sendMessage: missed } = await api.request(SendMessageDocument, {
  input: { channelId: channel.id, text: 'sent while the example client was offline', clientMessageId: randomUUID() },
});
const resumed = follow(channel.id, lastSeen);
const first = await resumed.next();
console.log(`resume after #${lastSeen}: ${line(first)}${first.seq === missed.seq ? ' (the message missed while offline)' : ''}`);
await resumed.close();
console.log('done');
