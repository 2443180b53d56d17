// The socket class of the GraphQL WebSocket server: a ws socket that is also graphql-ws's view of
// it, that closes itself once its client falls too far behind, and that writes a subscription's
// frames whole (see writeTextFrame).
import type { Socket } from 'node:net';
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
    this.closeIfBehind();
  }

  /**
   * Writes a text frame made by textFrame, header and payload in one buffer, with one write. ws
   * writes a message as its header then its payload, one writev of two buffers, which the kernel
   * charges more for; a fan-out writes one frame per subscriber, and in a 10,000-subscriber
   * `viewerEvents` fan-out that was 11.4 µs of a delivery's 20, against 9.6 with one write. ws
   * has no call for a frame made already, so this writes to its socket: in order with what ws
   * writes, since ws holds nothing back on this server (no permessage-deflate, no Blobs); should
   * it hold something back, the payload goes through ws instead.
   */
  writeTextFrame(frame: Buffer): void {
    const { _socket: socket, _sender: sender } = this as unknown as WsInternals;
    if (socket && sender._state === SENDER_IDLE && sender._queue.length === 0) {
      socket.write(frame);
      this.closeIfBehind();
    } else {
      // The payload after the header, whose size its second byte says (7-bit, 16-bit or 64-bit length).
      this.send(frame.subarray(frame[1] === 126 ? 4 : frame[1] === 127 ? 10 : 2), TEXT);
    }
  }

  private closeIfBehind(): void {
    if (this.bufferedAmount > (this.constructor as typeof GraphQLWebSocket).backlogMaxBytes && this.readyState === WebSocket.OPEN) {
      this.close(TRY_AGAIN_LATER, 'too far behind: reconnect and resume with afterSeq');
    }
  }
}

/** What writeTextFrame reads of ws 8's socket: its TCP socket, and whether its sender holds frames back. */
interface WsInternals {
  _socket: Socket | null;
  _sender: { _state: number; _queue: unknown[] };
}

/** ws's Sender state when it sends at once (DEFAULT in ws/lib/sender.js). */
const SENDER_IDLE = 0;

const TEXT = { binary: false } as const;

/**
 * A server's (unmasked) text frame of `length` payload bytes, final, its header written (RFC
 * 6455, 5.2); the payload goes in its last `length` bytes.
 */
export function textFrame(length: number): Buffer {
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  return frame;
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
