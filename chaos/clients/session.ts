// Staying connected the way an app does: one connection at a time, each to a server picked at
// random (any process may serve a resume), a short random wait after each loss, a longer one
// after each failed attempt in a row. Every attempt is recorded as a session.
import { now, sleep } from '../../bench/lib/clock.ts';
import type { SessionRecord } from '../lib/history.ts';
import type { Random } from '../lib/random.ts';
import { GraphQLSocket } from './socket.ts';

export interface Endpoint {
  wsUrls: string[];
  token: string;
  deviceId: string;
  idleMs: number;
}

export class Connection {
  readonly sessions: SessionRecord[] = [];
  socket: GraphQLSocket | null = null;
  private wanted = true;
  private running: Promise<void> | null = null;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly rng: Random,
    /** Sets up a fresh connection (subscribes, fills gaps); a throw drops the connection. */
    private readonly onOpen: (socket: GraphQLSocket, session: number) => void | Promise<void>,
  ) {}

  start(): void {
    this.wanted = true;
    this.running ??= this.loop().finally(() => (this.running = null));
  }

  private async loop(): Promise<void> {
    const { wsUrls, token, deviceId, idleMs } = this.endpoint;
    let failures = 0;
    while (this.wanted) {
      const server = this.rng.int(0, wsUrls.length - 1);
      const record: SessionRecord = { server, openedAt: now(), readyAt: null, endedAt: null, end: '' };
      const session = this.sessions.push(record) - 1;
      let socket: GraphQLSocket;
      try {
        socket = await GraphQLSocket.open(wsUrls[server]!, token, deviceId, idleMs);
      } catch (error) {
        record.endedAt = now();
        record.end = (error as Error).message.slice(0, 120);
        failures++;
        await sleep(Math.min(2000, 100 * 2 ** failures) + this.rng.int(0, 200));
        continue;
      }
      failures = 0;
      record.readyAt = now();
      this.socket = socket;
      if (!this.wanted) void socket.close();
      else {
        try {
          await this.onOpen(socket, session);
        } catch (error) {
          socket.terminate(`setup failed: ${(error as Error).message.slice(0, 120)}`);
        }
      }
      record.end = await socket.closed;
      record.endedAt = now();
      this.socket = null;
      if (this.wanted) await sleep(this.rng.int(50, 500));
    }
  }

  /** Closes the connection (cleanly) and stops reconnecting; resolves once it is closed. */
  async stop(): Promise<void> {
    this.wanted = false;
    await this.socket?.close();
    await this.running;
  }

  get connected(): boolean {
    return this.socket?.open ?? false;
  }
}
