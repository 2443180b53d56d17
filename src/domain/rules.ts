// Pure rules of the product: what a valid name, message or page is.
import type { Limits } from '../config.ts';
import { AppError } from '../errors.ts';

const CHANNEL_NAME = /^[a-z0-9_-]{1,80}$/;

/** A GROUP channel's name: 1–80 of a-z 0-9 - _. */
export function validateChannelName(name: string, field = 'name'): string {
  if (!CHANNEL_NAME.test(name)) {
    throw AppError.badInput(field, `${field} must be 1–80 characters of a-z, 0-9, - and _`);
  }
  return name;
}

/** An organization's name: 1–80 characters, not blank. */
export function validateOrganizationName(name: string, field = 'name'): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 80) {
    throw AppError.badInput(field, `${field} must be 1–80 characters and not blank`);
  }
  return trimmed;
}

/** A message's text: 1 to limits.messageMaxLength characters and not blank. */
export function validateMessageText(text: string, limits: Limits, field = 'text'): string {
  if (text.trim().length === 0) throw AppError.badInput(field, `${field} must not be blank`);
  const length = [...text].length;
  if (length > limits.messageMaxLength) {
    throw AppError.badInput(field, `${field} is ${length} characters; at most ${limits.messageMaxLength} are allowed`);
  }
  return text;
}

/** True when the text says @channel (or @here / @everyone) as a word of its own. */
export function textMentionsChannel(text: string): boolean {
  return /(^|\s)@(channel|here|everyone)(?![\w-])/.test(text);
}

/** A client's idempotency key: 1–128 printable characters. */
export function validateClientMessageId(id: string, field = 'clientMessageId'): string {
  if (id.length === 0 || id.length > 128) throw AppError.badInput(field, `${field} must be 1–128 characters`);
  return id;
}

export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** The size of a page asked for with first or last: the default when not given, at most max. */
export function pageSize(requested: number | null | undefined, limits: Limits, field: string, max = limits.pageMax): number {
  if (requested === null || requested === undefined) return limits.pageDefault;
  if (!Number.isInteger(requested) || requested < 0 || requested > max) {
    throw AppError.badInput(field, `${field} must be from 0 to ${max}`);
  }
  return requested;
}
