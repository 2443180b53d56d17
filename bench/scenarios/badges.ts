// The badges each viewer of the fan-out channel must see. Every user joined #general with nothing
// unread and never reads, so a frame's unreadCount is the number of messages sent to the channel
// so far, and its mentionCount the number of those that named the user.
import type { BadgeCheck } from '../load/messages.ts';

/** The server's default limit of users one message may mention. */
const MENTIONS_PER_MESSAGE = 50;

export class BadgeBook {
  private sent = 0;
  private readonly mentioned: Record<number, number> = {};

  constructor(private readonly users: number) {}

  /**
   * Whom the next message mentions: every other message names up to 50 users spread over all of
   * them, shifting between three sets, so mention counts of 0 to a few occur side by side.
   */
  next(): number[] {
    if (this.sent % 2 === 0) return [];
    const count = Math.min(MENTIONS_PER_MESSAGE, this.users);
    const stride = Math.floor(this.users / count);
    const shift = Math.floor(this.sent / 2) % Math.min(stride, 3);
    return Array.from({ length: count }, (_, j) => j * stride + shift);
  }

  /** Records a message the channel got, with the users it mentioned. */
  record(mentions: readonly number[]): void {
    this.sent++;
    for (const user of mentions) this.mentioned[user] = (this.mentioned[user] ?? 0) + 1;
  }

  /** What every frame must show once one more message, mentioning `mentions`, is in. */
  expectedWith(mentions: readonly number[]): BadgeCheck {
    const after: Record<number, number> = { ...this.mentioned };
    for (const user of mentions) after[user] = (after[user] ?? 0) + 1;
    return { unread: this.sent + 1, mentions: after };
  }
}
