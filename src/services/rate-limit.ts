// Messages per user per window, counted in this process: a flood from one client is refused with
// RATE_LIMITED before it reaches the store (a balancer spreading one user over N processes allows N×).
import { AppError } from '../errors.ts';

export class SendRateLimiter {
  private readonly sends = new Map<string, number[]>();

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  /** Counts a send by the user, or throws RATE_LIMITED with when to try again. */
  take(userId: string, now = Date.now()): void {
    const since = now - this.windowMs;
    const times = (this.sends.get(userId) ?? []).filter((t) => t > since);
    if (times.length >= this.perWindow) {
      const retryAfterSeconds = Math.max(1, Math.ceil((times[0]! + this.windowMs - now) / 1000));
      throw AppError.rateLimited(retryAfterSeconds);
    }
    times.push(now);
    this.sends.set(userId, times);
    if (this.sends.size > 100_000) this.forgetIdle(since);
  }

  private forgetIdle(since: number): void {
    for (const [userId, times] of this.sends) if ((times.at(-1) ?? 0) <= since) this.sends.delete(userId);
  }
}
