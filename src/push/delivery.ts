// What one attempt at telling one registration came to, and when to try again: the vocabulary the
// senders answer in and the outbox worker acts on.

export type DeliveryOutcome =
  /** The push service or gateway took it. */
  | { kind: 'sent' }
  /** The registration is dead (Web Push 404/410, a gateway's rejected pushkey): remove it. */
  | { kind: 'gone'; reason: string }
  /** Worth trying again (5xx, 429, a network error), not before retryAfterMs when the service said so. */
  | { kind: 'retry'; reason: string; retryAfterMs: number | null }
  /** Refused for good (another 4xx): nothing will change by retrying. */
  | { kind: 'failed'; reason: string };

/** How long one request may take before it counts as a network error. */
export const SEND_TIMEOUT_MS = 10_000;
/** The longest wait a Retry-After may impose. */
const RETRY_AFTER_MAX_MS = 3_600_000;
/** The longest wait between two attempts of our own choosing. */
const BACKOFF_MAX_MS = 15 * 60_000;

/** Retry-After (RFC 9110: delay-seconds or an HTTP-date) in ms from now; null when absent or unreadable. */
export function retryAfterMs(header: string | string[] | null | undefined, now = Date.now()): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), RETRY_AFTER_MAX_MS) : null;
}

/** The outcome of an HTTP status that is not a success. */
export function outcomeOfStatus(status: number, retryAfter: string | string[] | null | undefined, gone: readonly number[]): DeliveryOutcome {
  const reason = `HTTP ${status}`;
  if (gone.includes(status)) return { kind: 'gone', reason };
  if (status === 429 || status >= 500) return { kind: 'retry', reason, retryAfterMs: retryAfterMs(retryAfter) };
  return { kind: 'failed', reason };
}

/** Exponential backoff: base, 2 × base, 4 × base ... capped, with some jitter so retries spread out. */
export function backoffMs(baseMs: number, attempts: number): number {
  const exact = Math.min(BACKOFF_MAX_MS, baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exact * (0.8 + Math.random() * 0.4));
}
