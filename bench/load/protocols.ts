// The only per-system code in the load generator: how to subscribe and how to tell a payload
// frame from a control frame. All three speak over a plain `ws` client, so the client-side cost
// is the same for every system and does not blur the comparison.

export type ProtocolName = 'bare' | 'socketio' | 'graphql-ws';

export interface Params {
  /** Channel name (peers) or channel global id (ours). */
  channel: string;
  /**
   * Bearer tokens (ours only): connection i of the run uses tokens[i % tokens.length]. A
   * load-generator process gets only the tokens of its own connections, in order.
   */
  tokens?: string[];
  /** The subscription's document and variables (ours only). */
  subscription?: { query: string; variables: Record<string, unknown> };
}

type Send = (frame: string) => void;
/** 'subscribed' once the subscription is in place, 'message' for a payload, 'error' for a refusal. */
export type FrameKind = 'subscribed' | 'message' | 'error' | undefined;

export interface Connection {
  open(send: Send): void;
  frame(data: Buffer, send: Send): FrameKind;
  /** The reason of the last 'error', for the report. */
  lastError?: string;
}

export interface Protocol {
  /** Path and query appended to the server's ws://host:port. */
  path: string;
  subprotocol?: string;
  /** Connection `index` of the run, the `local`-th of its load-generator process. */
  connect(params: Params, index: number, local: number): Connection;
}

const startsWith = (data: Buffer, prefix: string) => data.toString('latin1', 0, prefix.length) === prefix;

// bare-ws peer: {"sub":"<channel>"} → {"ok":"<channel>"}; every other frame is a payload.
const bare: Protocol = {
  path: '/',
  connect: (params) => ({
    open: (send) => send(JSON.stringify({ sub: params.channel })),
    frame: (data) => (startsWith(data, '{"ok"') ? 'subscribed' : 'message'),
  }),
};

// Socket.IO v4 over Engine.IO v4, websocket transport only: '0' open, '2' ping (answer '3'),
// '40' namespace connected, '43<id>' ack, '42' event, '44' connect error.
const socketio: Protocol = {
  path: '/socket.io/?EIO=4&transport=websocket',
  connect: (params) => {
    const connection: Connection = {
      open: () => {},
      frame: (data, send) => {
        const type = data[0];
        if (type === 0x32 /* '2' ping */) {
          send('3');
          return undefined;
        }
        if (type === 0x30 /* '0' open */) {
          send('40');
          return undefined;
        }
        if (type !== 0x34 /* '4' message */) return undefined;
        const packet = data[1];
        if (packet === 0x32 /* '2' event */) return 'message';
        if (packet === 0x30 /* '0' connect */) {
          send(`421${JSON.stringify(['sub', params.channel])}`);
          return undefined;
        }
        if (packet === 0x33 /* '3' ack */) return 'subscribed';
        if (packet === 0x34 /* '4' error */) {
          connection.lastError = data.toString('utf8', 2, 300);
          return 'error';
        }
        return undefined;
      },
    };
    return connection;
  },
};

// graphql-transport-ws (ours). The protocol has no "subscribed" acknowledgement, so we call the
// subscription in place once it is sent; the warm-up rounds then wait until every client has
// actually received a message.
const graphqlWs: Protocol = {
  path: '/graphql',
  subprotocol: 'graphql-transport-ws',
  connect: (params, index, local) => {
    const tokens = params.tokens ?? [];
    const subscribe = JSON.stringify({ id: '1', type: 'subscribe', payload: params.subscription });
    const connection: Connection = {
      open: (send) => {
        send(
          JSON.stringify({
            type: 'connection_init',
            payload: { authorization: `Bearer ${tokens[local % tokens.length]}`, deviceId: `bench-${index}` },
          }),
        );
      },
      frame: (data, send) => {
        // Cheap test first: payload frames are by far the most common.
        if (data.indexOf('"type":"next"') !== -1) return 'message';
        const message = JSON.parse(data.toString('utf8')) as { type: string; payload?: unknown };
        switch (message.type) {
          case 'connection_ack':
            send(subscribe);
            return 'subscribed';
          case 'ping':
            send('{"type":"pong"}');
            return undefined;
          case 'error':
          case 'complete':
            connection.lastError = `${message.type}: ${JSON.stringify(message.payload ?? null).slice(0, 300)}`;
            return 'error';
          default:
            return undefined;
        }
      },
    };
    return connection;
  },
};

export const protocols: Record<ProtocolName, Protocol> = { bare, socketio, 'graphql-ws': graphqlWs };
