// A device on viewerEvents, the app's one stream. viewerEvents has no afterSeq, so after every
// reconnect the device subscribes again, then reads each channel's messages after the last one it
// has in a row through the history query (ChannelMessages, newest page first, paging back), as an
// app fills its gap. A reader's two devices also mark channels read now and then.
import { now, sleep } from '../../bench/lib/clock.ts';
import {
  ChannelMessagesDocument,
  MarkChannelReadDocument,
  OrganizationChannelsDocument,
  type ViewerEventsSubscription,
  ViewerEventsDocument,
} from '../../operations/generated/graphql.ts';
import type { DeviceHistory } from '../lib/history.ts';
import type { Random } from '../lib/random.ts';
import type { DeviceRole, World } from '../lib/world.ts';
import { call, describe } from './api.ts';
import { Connection } from './session.ts';
import type { GraphQLSocket } from './socket.ts';

type ViewerEvent = ViewerEventsSubscription['viewerEvents'];

const FILL_PAGE = 100;

export class Device {
  readonly history: DeviceHistory;
  /** Per channel: the seqs this device has, live or filled, and how far it has all of them. */
  private readonly known = new Map<number, Set<number>>();
  private readonly inRow = new Map<number, number>();
  private readonly channelOf: Map<string, number>;
  private readonly connection: Connection;
  private marking = false;
  private readonly token: string;

  constructor(
    private readonly role: DeviceRole,
    private readonly world: World,
    wsUrls: string[],
    private readonly httpUrls: string[],
    private readonly timeoutMs: number,
    idleMs: number,
    private readonly rng: Random,
  ) {
    this.token = world.users[role.user]!.token;
    this.channelOf = new Map(world.channels.map((c) => [c.gid, c.index]));
    for (const c of role.channels) {
      this.known.set(c, new Set());
      this.inRow.set(c, 0);
    }
    this.history = {
      name: role.name,
      user: role.user,
      deviceId: role.deviceId,
      channels: role.channels,
      slow: role.slow,
      sessions: [],
      events: [],
      fills: [],
      marks: [],
      finalBadges: null,
      errors: [],
      caughtUp: false,
    };
    const endpoint = { wsUrls, token: this.token, deviceId: role.deviceId, idleMs };
    this.connection = new Connection(endpoint, rng, (socket, session) => this.opened(socket, session));
    this.history.sessions = this.connection.sessions;
  }

  private note(error: string): void {
    if (this.history.errors.length < 100) this.history.errors.push(error);
  }

  /** Subscribes first, then fills each channel's gap, so nothing falls between the two. */
  private async opened(socket: GraphQLSocket, session: number): Promise<void> {
    socket.subscribe(ViewerEventsDocument, {}, {
      next: (payload) => {
        const event = (payload.data as ViewerEventsSubscription | undefined)?.viewerEvents;
        if (payload.errors?.length || !event) return this.note(`session ${session}: ${JSON.stringify(payload.errors ?? payload).slice(0, 200)}`);
        this.record(event, session);
      },
      ended: (why) => socket.terminate(`subscription ended: ${why}`),
    });
    for (const channel of this.role.channels) await this.fill(socket, channel, session);
  }

  private record(event: ViewerEvent, session: number): void {
    const at = now();
    if (event.__typename === 'MessageAddedEvent' || event.__typename === 'ChannelReadEvent') {
      const channel = this.channelOf.get(event.channel.id) ?? -1;
      const badge = event.channel;
      const seq = event.__typename === 'MessageAddedEvent' ? event.message.seq : 0;
      this.history.events.push([event.__typename === 'MessageAddedEvent' ? 'm' : 'r', channel, seq, badge.unreadCount, badge.mentionCount, badge.lastReadSeq ?? -1, at, session]);
      if (seq > 0) this.have(channel, [seq]);
    } else {
      this.history.events.push(['o', -1, 0, 0, 0, 0, at, session]);
    }
  }

  private have(channel: number, seqs: number[]): void {
    const known = this.known.get(channel);
    if (!known) return;
    for (const seq of seqs) known.add(seq);
    let row = this.inRow.get(channel)!;
    while (known.has(row + 1)) row++;
    this.inRow.set(channel, row);
  }

  /** Reads the channel's messages after the last one this device has in a row. */
  private async fill(socket: GraphQLSocket, channel: number, session: number): Promise<void> {
    const afterSeq = this.inRow.get(channel)!;
    const channelId = this.world.channels[channel]!.gid;
    const seqs: number[] = [];
    let before: string | null | undefined;
    for (;;) {
      const page = await socket.request(ChannelMessagesDocument, { channelId, last: FILL_PAGE, before }, this.timeoutMs);
      if (!page.ok) throw new Error(`gap fill of c${channel} failed: ${describe(page)} ${page.message}`);
      const messages = page.data.channel?.messages;
      if (!messages) throw new Error(`gap fill of c${channel}: no channel`);
      const pageSeqs = messages.edges.map((edge) => edge.node.seq);
      seqs.push(...pageSeqs.filter((seq) => seq > afterSeq));
      if (pageSeqs.length === 0 || Math.min(...pageSeqs) <= afterSeq + 1 || !messages.pageInfo.hasPreviousPage) break;
      before = messages.pageInfo.startCursor;
    }
    this.history.fills.push({ channel, afterSeq, seqs: seqs.sort((a, b) => a - b), at: now(), session });
    this.have(channel, seqs);
  }

  start(): void {
    this.connection.start();
  }

  /** Marks one of its channels read every 1–3 s, through a seq it has (sometimes an older one). */
  async markWhile(going: () => boolean): Promise<void> {
    if (!this.role.marks) return;
    this.marking = true;
    while (going() && this.marking) {
      await sleep(this.rng.int(1000, 3000));
      if (!going()) break;
      const channel = this.rng.pick(this.role.channels);
      const newest = Math.max(0, ...this.known.get(channel)!);
      if (newest === 0) continue;
      const throughSeq = this.rng.int(Math.max(0, newest - 5), newest);
      const at = now();
      const url = this.rng.pick(this.httpUrls);
      const input = { channelId: this.world.channels[channel]!.gid, throughSeq };
      const outcome = await call(url, this.token, MarkChannelReadDocument, { input }, this.timeoutMs);
      this.history.marks.push({
        channel,
        throughSeq,
        at,
        doneAt: outcome.ok ? now() : null,
        lastReadSeq: outcome.ok ? (outcome.data.markChannelRead.lastReadSeq ?? null) : null,
        outcome: describe(outcome),
      });
    }
  }

  /** True once it has every message up to each channel's last seq. */
  caughtUpWith(lastSeqs: Record<number, number>): boolean {
    return this.role.channels.every((c) => this.inRow.get(c)! >= (lastSeqs[c] ?? 0));
  }

  /** The badges of its channels as the API gives them now (retried until an answer). */
  async readFinalBadges(deadline: number): Promise<void> {
    if (!this.role.marks) return;
    while (now() < deadline) {
      const url = this.rng.pick(this.httpUrls);
      const outcome = await call(url, this.token, OrganizationChannelsDocument, { organizationId: this.world.orgGid, first: 100 }, this.timeoutMs);
      if (outcome.ok && outcome.data.organization) {
        this.history.finalBadges = outcome.data.organization.channels.edges
          .map(({ node }) => ({ channel: this.channelOf.get(node.id) ?? -1, unread: node.unreadCount, mention: node.mentionCount, lastReadSeq: node.lastReadSeq ?? -1 }))
          .filter((badge) => badge.channel >= 0);
        return;
      }
      await sleep(500);
    }
    this.note('no answer for the final badges');
  }

  stall(ms: number): boolean {
    if (!this.connection.socket) return false;
    this.connection.socket.stall(ms);
    return true;
  }

  async stop(): Promise<void> {
    this.marking = false;
    await this.connection.stop();
  }
}
