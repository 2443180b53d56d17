// The floor of a send over HTTP: graphql-yoga, the version ours runs, serving ours's schema
// (schema.graphql) with a sendMessage that stores nothing, checks nothing and publishes nothing;
// it answers the client's SendMessage document from its input. What it costs per request (HTTP,
// parsing, validation, execution, the JSON answer) any send through Yoga costs before its own work.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { toGlobalId } from '../../src/domain/ids.ts';
import { listenPort } from './http.ts';

interface SendInput {
  channelId: string;
  text: string;
  clientMessageId?: string | null;
}

let seq = 0;
const yoga = createYoga({
  schema: createSchema({
    typeDefs: readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'),
    // Federation's @link and @key are declared by the federation plugin, not in the printed SDL.
    assumeValidSDL: true,
    resolvers: {
      Mutation: {
        sendMessage: (_root: unknown, { input }: { input: SendInput }) => ({
          id: toGlobalId('Message', `msg_floor${++seq}`),
          seq,
          text: input.text,
          sentAt: new Date().toISOString(),
          clientMessageId: input.clientMessageId ?? null,
          mentionsChannel: false,
          author: { id: toGlobalId('User', 'usr_floor'), name: 'floor' },
          mentions: [],
        }),
      },
    },
  }),
  logging: false,
  graphiql: false,
});

const server = http.createServer((req, res) => {
  if (req.url === '/ready') {
    res.end('ok');
    return;
  }
  void yoga(req, res);
});
server.listen(listenPort(), '127.0.0.1');
