// Finds dead WebSockets (a phone that lost its network never says goodbye) without a timer per
// socket: sockets are spread over slices, one slice is pinged per tick, so a host with 50,000
// sockets sends a few thousand pings at a time rather than all at once. A socket that has not
// answered its last ping by its next turn, one interval later, is terminated.
import { WebSocket } from 'ws';

const SLICES = 10;

export class KeepAlive {
  private readonly slices: Set<WebSocket>[] = Array.from({ length: SLICES }, () => new Set());
  private readonly unanswered = new WeakSet<WebSocket>();
  private readonly timer: NodeJS.Timeout;
  private added = 0;
  private turn = 0;
  /** One 'pong' listener for every socket (`this` is the socket). */
  private readonly heard: (this: WebSocket) => void;

  /** @param intervalMs how often each socket is pinged, and how long it has to answer. */
  constructor(intervalMs: number) {
    const unanswered = this.unanswered;
    this.heard = function heard(this: WebSocket) {
      unanswered.delete(this);
    };
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(intervalMs / SLICES)));
    this.timer.unref();
  }

  watch(socket: WebSocket): void {
    this.slices[this.added++ % SLICES]!.add(socket);
    socket.on('pong', this.heard);
  }

  forget(socket: WebSocket): void {
    for (const slice of this.slices) if (slice.delete(socket)) return;
  }

  private tick(): void {
    const slice = this.slices[this.turn++ % SLICES]!;
    for (const socket of slice) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      if (this.unanswered.has(socket)) {
        slice.delete(socket);
        socket.terminate();
        continue;
      }
      this.unanswered.add(socket);
      socket.ping();
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
