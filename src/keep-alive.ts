// Finds dead WebSockets (a phone that lost its network never says goodbye) without a timer per
// socket: sockets are spread over slices, one slice is pinged per tick, so a host with 50,000
// sockets sends a few thousand pings at a time rather than all at once. A socket that has not
// answered its last ping by its next turn, one interval later, is terminated.
import { WebSocket } from 'ws';

const SLICES = 10;

/** A socket that remembers whether its last ping is unanswered. */
export interface Pinged extends WebSocket {
  awaitingPong: boolean;
}

/** The one 'pong' listener of every socket (`this` is the socket). */
function heard(this: WebSocket): void {
  (this as Pinged).awaitingPong = false;
}

export class KeepAlive {
  private readonly slices: Set<Pinged>[] = Array.from({ length: SLICES }, () => new Set());
  private readonly timer: NodeJS.Timeout;
  private added = 0;
  private turn = 0;

  /** @param intervalMs how often each socket is pinged, and how long it has to answer. */
  constructor(intervalMs: number) {
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(intervalMs / SLICES)));
    this.timer.unref();
  }

  watch(socket: Pinged): void {
    this.slices[this.added++ % SLICES]!.add(socket);
    socket.on('pong', heard);
  }

  forget(socket: Pinged): void {
    for (const slice of this.slices) if (slice.delete(socket)) return;
  }

  private tick(): void {
    const slice = this.slices[this.turn++ % SLICES]!;
    for (const socket of slice) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      if (socket.awaitingPong) {
        slice.delete(socket);
        socket.terminate();
        continue;
      }
      socket.awaitingPong = true;
      socket.ping();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
