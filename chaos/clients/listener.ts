// A messageAdded listener: subscribes from afterSeq, and after every loss reconnects to any
// process and resumes from the last seq it has. It records every delivery and every session; the
// checker compares them with the store.
import { now } from '../../bench/lib/clock.ts';
import { MessageAddedDocument } from '../../operations/generated/graphql.ts';
import type { ListenerHistory } from '../lib/history.ts';
import type { Random } from '../lib/random.ts';
import type { ListenerRole, World } from '../lib/world.ts';
import { Connection } from './session.ts';

export class ChannelListener {
  readonly history: ListenerHistory;
  private last: number;
  private readonly connection: Connection;
  private readonly channelGid: string;

  constructor(role: ListenerRole, world: World, wsUrls: string[], idleMs: number, rng: Random, startAfterSeq: number) {
    const user = world.users[role.user]!;
    this.channelGid = world.channels[role.channel]!.gid;
    this.last = startAfterSeq;
    this.history = {
      name: role.name,
      user: role.user,
      channel: role.channel,
      startAfterSeq,
      slow: role.slow,
      sessions: [],
      deliveries: [],
      errors: [],
      caughtUp: false,
    };
    const endpoint = { wsUrls, token: user.token, deviceId: role.name, idleMs };
    this.connection = new Connection(endpoint, rng, (socket, session) => {
      socket.subscribe(
        MessageAddedDocument,
        { channelId: this.channelGid, afterSeq: this.last },
        {
          next: (payload) => {
            const message = (payload.data as { messageAdded?: { seq: number; id: string } } | undefined)?.messageAdded;
            if (payload.errors?.length || !message) {
              this.note(`session ${session}: ${JSON.stringify(payload.errors ?? payload).slice(0, 200)}`);
              return;
            }
            this.history.deliveries.push([message.seq, now(), session, message.id]);
            // A client resumes from the newest seq it has.
            this.last = Math.max(this.last, message.seq);
          },
          ended: (why) => {
            if (socket.open) this.note(`session ${session}: subscription ended (${why})`);
            socket.terminate(`subscription ended: ${why}`);
          },
        },
      );
    });
    this.history.sessions = this.connection.sessions;
  }

  private note(error: string): void {
    if (this.history.errors.length < 100) this.history.errors.push(error);
  }

  start(): void {
    this.connection.start();
  }

  get lastSeq(): number {
    return this.last;
  }

  stall(ms: number): boolean {
    if (!this.connection.socket) return false;
    this.connection.socket.stall(ms);
    return true;
  }

  async stop(): Promise<void> {
    await this.connection.stop();
  }
}
