// Bearer tokens: HS256 JWTs with sub (the user's id), name, optional email, and exp. Whatever the
// identity provider put in them is shown to other members, so it is made safe here, once.
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { cleanDisplayName, handleFrom } from '../domain/rules.ts';
import { AppError } from '../errors.ts';

export interface Claims {
  sub: string;
  /** The handle mentions use, from the name claim (domain/rules.ts: handleFrom). */
  name: string;
  /** The name claim as people read it, cleaned and bounded; null when it shows nothing. */
  displayName: string | null;
  email: string | null;
  /** When the token expires (ms since the epoch); null when it names no expiry. */
  expiresAt: number | null;
}

/** Longest email address (RFC 5321's path limit). */
const EMAIL_MAX = 254;

/** The email claim when it looks like one address, else null: it is never worth refusing a sign-in over. */
function emailOf(claim: unknown): string | null {
  if (typeof claim !== 'string' || claim.length > EMAIL_MAX) return null;
  return /^[^\s@\p{Cc}\p{Cf}\p{Cs}]+@[^\s@\p{Cc}\p{Cf}\p{Cs}]+$/u.test(claim) ? claim : null;
}

const key = (secret: string) => new TextEncoder().encode(secret);

/** HMAC keys, made once per secret. */
const hmacKeys = new Map<string, KeyObject>();

function hmacKey(secret: string): KeyObject {
  let made = hmacKeys.get(secret);
  if (!made) hmacKeys.set(secret, (made = createSecretKey(key(secret))));
  return made;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * The payload of a compact JWS whose HS256 signature is the secret's, or null. The signature is
 * checked with node:crypto's HMAC, synchronously: jose checks it through WebCrypto, a job and
 * its promises per token, which was the largest cost of a connection. jose still decodes.
 */
function signedPayload(token: string, secret: string): Record<string, unknown> | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return null;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const { alg, crit, b64 } = decodeProtectedHeader(token);
    // Only HS256; no extension this check would not understand (RFC 7515 §4.1.11).
    if (alg !== 'HS256' || crit !== undefined || b64 !== undefined) return null;
    const expected = createHmac('sha256', hmacKey(secret)).update(`${header}.${payload}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return decodeJwt(token);
  } catch {
    return null;
  }
}

type Refusal = 'expired' | 'no expiry' | 'invalid';

/** What is wrong with a signed token's time claims (RFC 7519 §4.1.4–6), if anything. */
function timeRefusal(payload: Record<string, unknown>, allowWithoutExpiry: boolean): Refusal | null {
  const { exp, nbf, iat } = payload;
  const now = Math.floor(Date.now() / 1000);
  if ([exp, nbf, iat].some((claim) => claim !== undefined && typeof claim !== 'number')) return 'invalid';
  if (exp === undefined) return allowWithoutExpiry ? null : 'no expiry';
  if ((exp as number) <= now) return 'expired';
  if (nbf !== undefined && (nbf as number) > now) return 'invalid';
  return null;
}

const REASONS: Record<Refusal, string> = {
  expired: 'the token has expired',
  'no expiry': 'the token has no expiry (exp)',
  invalid: 'the token is not valid',
};

/**
 * Verifies a token's signature, expiry and claims; any failure is UNAUTHENTICATED. A token without
 * `exp` would never expire (a socket holding it would live forever), so it is refused unless
 * allowed.
 */
export async function verifyToken(token: string, secret: string, { allowWithoutExpiry = false } = {}): Promise<Claims> {
  const payload = signedPayload(token, secret);
  const refusal = payload ? timeRefusal(payload, allowWithoutExpiry) : 'invalid';
  if (!payload || refusal) throw AppError.unauthenticated(`Sign in again: ${REASONS[refusal ?? 'invalid']}`, { tokenRefused: true });
  const { sub, name, email, exp } = payload;
  // The subject is the user's id as stored: a control character or a lone surrogate would not survive the store.
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200 || /[\p{Cc}\p{Cs}]/u.test(sub)) {
    throw AppError.unauthenticated('Sign in again: the token names no user (sub)', { tokenRefused: true });
  }
  const nameClaim = typeof name === 'string' ? name : '';
  return {
    sub,
    name: handleFrom(nameClaim, sub),
    displayName: cleanDisplayName(nameClaim),
    email: emailOf(email),
    expiresAt: typeof exp === 'number' ? exp * 1000 : null,
  };
}

/** Signs a token, as a development identity provider would. */
export async function signToken(claims: { sub: string; name?: string; email?: string }, secret: string, expiresIn = '30d') {
  const { sub, ...rest } = claims;
  return new SignJWT(rest).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime(expiresIn).sign(key(secret));
}

/** The token of an `Authorization: Bearer <token>` value, or null when there is none. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}
