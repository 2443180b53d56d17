// The socket class of the GraphQL WebSocket server: a ws socket that is also graphql-ws's view of
// it, and that closes itself once its client falls too far behind.
import type { WebSocket as ProtocolSocket } from 'graphql-ws';
import { WebSocket } from 'ws';
import type { Pinged } from './keep-alive.ts';

/** WebSocket close code 1013 (try again later): graphql-ws clients reconnect after it. */
const TRY_AGAIN_LATER = 1013;

/**
 * A ws socket that is also graphql-ws's view of it (makeServer's WebSocket): ws builds each
 * connection as one of these, so the protocol's hooks live in the socket's own fields, with no
 * adapter object or closure per connection.
 */
export class GraphQLWebSocket extends WebSocket implements ProtocolSocket, Pinged {
  /** Bytes a socket may have waiting to be sent (set per server: see socketClassFor). */
  static backlogMaxBytes = Number.POSITIVE_INFINITY;
  /** graphql-ws's handler of each message the client sends. */
  handle: ((data: string) => Promise<void>) | null = null;
  /** graphql-ws's clean-up once the socket has closed. */
  cleanUp: ((code?: number, reason?: string) => Promise<void>) | null = null;
  awaitingPong = false;

  onMessage(handle: (data: string) => Promise<void>): void {
    this.handle = handle;
  }

  /**
   * Every frame the server writes passes here (protocol replies such as pongs, query results,
   * errors, subscription events): a client this far behind (a stalled phone, or one that never
   * reads) is better off reconnecting and resuming with afterSeq than the server holding an ever
   * longer backlog for it.
   */
  override send(data: Sent, callback?: SendCallback): void;
  override send(data: Sent, options: SendOptions, callback?: SendCallback): void;
  override send(data: Sent, options?: SendOptions | SendCallback, callback?: SendCallback): void {
    // ws takes a callback in the options' place, as the overloads say.
    super.send(data, options as SendOptions, callback);
    if (this.bufferedAmount > (this.constructor as typeof GraphQLWebSocket).backlogMaxBytes && this.readyState === WebSocket.OPEN) {
      this.close(TRY_AGAIN_LATER, 'too far behind: reconnect and resume with afterSeq');
    }
  }
}

/** The socket class of one server, with its backlog limit: one class per server, nothing per socket. */
export function socketClassFor(backlogMaxBytes: number): typeof GraphQLWebSocket {
  return class extends GraphQLWebSocket {
    static override backlogMaxBytes = backlogMaxBytes;
  };
}

type Sent = Parameters<WebSocket['send']>[0];
type SendOptions = Parameters<WebSocket['send']>[1] & object;
type SendCallback = (error?: Error) => void;
