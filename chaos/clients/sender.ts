// A sender: one message at a time in its channels, each with its own clientMessageId, retried with
// the same id (on any process) after a network error, a timeout or a retryable error code, until
// it is acknowledged. Now and then the app is closed while a send is under way: that send gets a
// few ms for its one attempt and is never retried, so it may be stored or not, but never twice.
// Some messages mention a member or the whole channel, so badges have mentions to count.
import { now, sleep } from '../../bench/lib/clock.ts';
import { SendMessageDocument } from '../../operations/generated/graphql.ts';
import type { SendRecord } from '../lib/history.ts';
import type { Random } from '../lib/random.ts';
import type { World } from '../lib/world.ts';
import { RETRYABLE_CODES, call, describe } from './api.ts';

/** The share of sends whose app is closed while they are under way. */
const ABANDONED = 0.1;

export class Sender {
  readonly sends: SendRecord[] = [];
  private sequence = 0;
  inFlight = false;

  constructor(
    private readonly user: string,
    /** Several agents of one user send at once, each with its own ids. */
    private readonly agent: number,
    private readonly channels: number[],
    private readonly world: World,
    private readonly httpUrls: string[],
    private readonly timeoutMs: number,
    private readonly rng: Random,
  ) {}

  /** Sends while going() says so, then returns once the send under way is settled or given up at giveUpAt(). */
  async run(going: () => boolean, giveUpAt: () => number): Promise<void> {
    while (going()) {
      await this.sendOne(giveUpAt);
      await sleep(this.rng.int(200, 1000));
    }
  }

  private draft(): SendRecord {
    const channel = this.rng.pick(this.channels);
    const members = this.world.channels[channel]!.members.filter((m) => m !== this.user);
    const k = ++this.sequence;
    const mentions = this.rng.chance(0.25) ? [this.rng.pick(members)] : [];
    const mentionsChannel = this.rng.chance(0.05);
    const text = `${this.world.users[this.user]!.name}/${this.agent} #${k} in c${channel}${mentionsChannel ? ' @channel' : ''}${mentions.map((m) => ` @${this.world.users[m]!.name}`).join('')}`;
    return {
      clientMessageId: `${this.user}:${this.agent}:${k}`,
      channel,
      author: this.user,
      text,
      mentions,
      mentionsChannel,
      firstAt: now(),
      ackedAttemptAt: null,
      ackAt: null,
      seq: null,
      id: null,
      attempts: 0,
      failures: [],
      refused: null,
    };
  }

  private async sendOne(giveUpAt: () => number): Promise<void> {
    const record = this.draft();
    this.sends.push(record);
    this.inFlight = true;
    const token = this.world.users[this.user]!.token;
    const input = {
      channelId: this.world.channels[record.channel]!.gid,
      text: record.text,
      clientMessageId: record.clientMessageId,
      mentionIds: record.mentions.map((m) => this.world.users[m]!.gid),
      mentionsChannel: record.mentionsChannel,
    };
    const abandoned = this.rng.chance(ABANDONED);
    try {
      while (now() < giveUpAt()) {
        record.attempts++;
        const attemptAt = now();
        const timeoutMs = abandoned ? this.rng.int(1, 30) : this.timeoutMs;
        const outcome = await call(this.rng.pick(this.httpUrls), token, SendMessageDocument, { input }, timeoutMs);
        if (outcome.ok) {
          record.ackedAttemptAt = attemptAt;
          record.ackAt = now();
          record.seq = outcome.data.sendMessage.seq;
          record.id = outcome.data.sendMessage.id;
          return;
        }
        record.failures.push(describe(outcome));
        if (abandoned) return;
        if (outcome.failure === 'graphql' && !outcome.codes.every((code) => RETRYABLE_CODES.includes(code))) {
          record.refused = `${describe(outcome)}: ${outcome.message}`;
          return;
        }
        // RATE_LIMITED says when; after anything else a short pause, then another process.
        await sleep(outcome.retryAfterMs > 0 ? outcome.retryAfterMs + this.rng.int(0, 300) : this.rng.int(50, 300));
      }
    } finally {
      this.inFlight = false;
    }
  }
}
