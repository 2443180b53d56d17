// Pure rules of the product: what a valid name, message or page is.
import type { Limits } from '../config.ts';
import { AppError } from '../errors.ts';

const CHANNEL_NAME = /^[a-z0-9_-]{1,80}$/;

/** Half of a UTF-16 surrogate pair on its own: no character at all, and stores would each replace it differently. */
const LONE_SURROGATE = /\p{Cs}/u;
/** What nobody sees: spaces, format characters (zero-width, bidi controls), fillers, marks that have nothing to sit on. */
const VISIBLE = /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Cs}\p{Mn}\p{Me}\u2800]/u;
/** Characters that break a one-line name or reorder the text around it: controls, bidi controls, line breaks. */
const UNSAFE_IN_NAME = /[\p{Cc}\p{Bidi_Control}\p{Zl}\p{Zp}]/u;

/** The length a person counts: code points, so an emoji is one character, not two. */
const characters = (text: string) => [...text].length;

/** True when some character of the text would show on screen. */
export function hasVisibleCharacter(text: string): boolean {
  return VISIBLE.test(text);
}

/** Fails with BAD_USER_INPUT when the text holds a lone surrogate: what is stored must be exactly what was sent. */
export function requireWellFormed(text: string, field: string): string {
  if (LONE_SURROGATE.test(text)) throw AppError.badInput(field, `${field} holds a lone UTF-16 surrogate: send well-formed text`);
  return text;
}

/** A GROUP channel's name: 1–80 of a-z 0-9 - _. */
export function validateChannelName(name: string, field = 'name'): string {
  if (!CHANNEL_NAME.test(name)) {
    throw AppError.badInput(field, `${field} must be 1–80 characters of a-z, 0-9, - and _`);
  }
  return name;
}

/** An organization's name: 1–80 characters on one line, no controls or bidi controls, something visible. */
export function validateOrganizationName(name: string, field = 'name'): string {
  requireWellFormed(name, field);
  if (UNSAFE_IN_NAME.test(name)) {
    throw AppError.badInput(field, `${field} must not contain control characters, bidi controls or line breaks`);
  }
  const trimmed = name.trim();
  if (!hasVisibleCharacter(trimmed)) throw AppError.badInput(field, `${field} must contain a visible character`);
  if (characters(trimmed) > 80) throw AppError.badInput(field, `${field} must be at most 80 characters`);
  return trimmed;
}

/** A message's text: well-formed, something visible, at most limits.messageMaxLength characters. */
export function validateMessageText(text: string, limits: Limits, field = 'text'): string {
  requireWellFormed(text, field);
  if (!hasVisibleCharacter(text)) throw AppError.badInput(field, `${field} must contain a visible character`);
  const length = characters(text);
  if (length > limits.messageMaxLength) {
    throw AppError.badInput(field, `${field} is ${length} characters; at most ${limits.messageMaxLength} are allowed`);
  }
  return text;
}

/** True when the text says @channel (or @here / @everyone) as a word of its own. */
export function textMentionsChannel(text: string): boolean {
  return /(^|\s)@(channel|here|everyone)(?![\w-])/.test(text);
}

/** A client's idempotency key: 1–128 characters, none of them a control character. */
export function validateClientMessageId(id: string, field = 'clientMessageId'): string {
  requireWellFormed(id, field);
  if (id.length === 0 || id.length > 128 || /\p{Cc}/u.test(id)) {
    throw AppError.badInput(field, `${field} must be 1–128 characters, none of them a control character`);
  }
  return id;
}

/** Longest display name kept from a token, in characters. */
export const DISPLAY_NAME_MAX = 80;
/** Longest handle (the name mentions use), in characters. */
export const HANDLE_MAX = 40;

/**
 * A display name as an identity provider sent it, made safe to show to every member: whitespace
 * runs become one space; controls, lone surrogates and format characters (bidi controls,
 * zero-width spaces) go, except the zero-width joiner inside emoji; at most DISPLAY_NAME_MAX
 * characters. Null when nothing visible is left.
 */
export function cleanDisplayName(raw: string): string | null {
  const cleaned = raw
    .replace(/\p{White_Space}+/gu, ' ')
    .replace(/[\p{Cc}\p{Cs}\p{Cf}]/gu, (c) => (c === '\u200d' ? c : ''))
    .trim();
  const bounded = [...cleaned].slice(0, DISPLAY_NAME_MAX).join('').trim();
  return hasVisibleCharacter(bounded) ? bounded : null;
}

/** What a handle keeps: letters (with their marks), digits, '.', '_' and '-'. */
const NOT_IN_HANDLE = /[^\p{L}\p{M}\p{N}._-]/gu;

/**
 * The handle mentions use (`@handle`): the name claim's letters, digits, '.', '_' and '-', in
 * order, at most HANDLE_MAX of them ("Ann Lee" → "AnnLee"); from the fallback (the subject) when
 * the name keeps nothing visible, and "user" when neither does.
 */
export function handleFrom(name: string, fallback: string): string {
  for (const source of [name, fallback]) {
    const handle = [...source.replace(NOT_IN_HANDLE, '')].slice(0, HANDLE_MAX).join('');
    if (hasVisibleCharacter(handle)) return handle;
  }
  return 'user';
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

/** The form of a user's name that @name mentions are matched against: case-insensitive, NFC. */
export function nameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/** Words after @ that mention the whole channel (textMentionsChannel), never a member. */
const CHANNEL_WORDS = new Set(['channel', 'here', 'everyone']);

/**
 * @name at a word boundary (not inside a word or an e-mail address): letters, digits and _, with
 * single . or - between them, so "@ann.lee" is one name and "@bob." ends at "bob".
 */
const NAME_MENTION = /(?<![\p{L}\p{N}_])@([\p{L}\p{N}_]+(?:[.-][\p{L}\p{N}_]+)*)/gu;

/** The distinct names the text mentions as @name, as nameKey()s in order of appearance, at most max. */
export function mentionedNames(text: string, max: number): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(NAME_MENTION)) {
    if (names.size >= max) break;
    const key = nameKey(match[1]!);
    if (!CHANNEL_WORDS.has(key)) names.add(key);
  }
  return [...names];
}
