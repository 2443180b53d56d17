// Closes each WebSocket when its token expires, without a timer or closure per socket: sockets are
// filed by the second their token's `exp` names, and one timer, a few times a second, closes those
// whose second has come. A process holding tens of thousands of sockets pays a set entry for each.
import type { WebSocket } from 'ws';

/** How often the due seconds are looked at: a socket is closed within this much of its `exp`. */
const TICK_MS = 250;

const nowInSeconds = () => Math.floor(Date.now() / 1000);

/** The second from which a token expiring at `expiresAt` (ms) is refused. */
const secondOf = (expiresAt: number) => Math.ceil(expiresAt / 1000);

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

export class TokenExpiry {
  /** Sockets by the second (since the epoch) their token expires. */
  private readonly due = new Map<number, Set<WebSocket>>();
  /** Every second up to this one has been dealt with. */
  private swept = nowInSeconds();
  private readonly timer: NodeJS.Timeout;

  /** @param expire what to do with a socket whose token has expired (close it with 4403). */
  constructor(private readonly expire: (socket: WebSocket) => void) {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** Watches a socket whose token expires at `expiresAt` (ms since the epoch: the claims' expiresAt). */
  watch(socket: WebSocket, expiresAt: number): void {
    // A token is valid until the second its exp names (jose refuses it from then on).
    const second = secondOf(expiresAt);
    if (second <= this.swept) return this.expire(socket);
    let sockets = this.due.get(second);
    if (!sockets) this.due.set(second, (sockets = new Set()));
    sockets.add(socket);
  }

  forget(socket: WebSocket, expiresAt: number): void {
    const second = secondOf(expiresAt);
    const sockets = this.due.get(second);
    if (sockets?.delete(socket) && sockets.size === 0) this.due.delete(second);
  }

  /** True when a token expiring at `expiresAt` (ms since the epoch) has expired by now. */
  static expired(expiresAt: number | null): boolean {
    return expiresAt !== null && expiresAt <= Date.now();
  }

  private tick(): void {
    const now = nowInSeconds();
    // Usually one second has passed; after a stall or a clock jump, walk the filed seconds instead.
    const seconds = now - this.swept <= this.due.size ? range(this.swept + 1, now) : [...this.due.keys()].filter((second) => second <= now);
    this.swept = now;
    for (const second of seconds) {
      const sockets = this.due.get(second);
      if (!sockets) continue;
      this.due.delete(second);
      for (const socket of sockets) this.expire(socket);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
