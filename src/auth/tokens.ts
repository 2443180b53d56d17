// Bearer tokens: HS256 JWTs with sub (the user's id), name, optional email, and exp. Whatever the
// identity provider put in them is shown to other members, so it is made safe here, once.
import { SignJWT, jwtVerify } from 'jose';
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

/** Verification keys, imported once per secret: importing one for every token costs as much as the check. */
const verificationKeys = new Map<string, Promise<CryptoKey>>();

function verificationKey(secret: string): Promise<CryptoKey> {
  let imported = verificationKeys.get(secret);
  if (!imported) {
    imported = crypto.subtle.importKey('raw', key(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
    verificationKeys.set(secret, imported);
  }
  return imported;
}

/**
 * Verifies a token's signature, expiry and claims; any failure is UNAUTHENTICATED. A token without
 * `exp` would never expire (a socket holding it would live forever), so it is refused unless
 * allowed.
 */
export async function verifyToken(token: string, secret: string, { allowWithoutExpiry = false } = {}): Promise<Claims> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, await verificationKey(secret), { algorithms: ['HS256'], requiredClaims: allowWithoutExpiry ? [] : ['exp'] }));
  } catch (error) {
    const { code, claim } = error as { code?: string; claim?: string };
    const reason =
      code === 'ERR_JWT_EXPIRED'
        ? 'the token has expired'
        : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'exp'
          ? 'the token has no expiry (exp)'
          : 'the token is not valid';
    throw AppError.unauthenticated(`Sign in again: ${reason}`, { tokenRefused: true });
  }
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
