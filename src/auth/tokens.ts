// Bearer tokens: HS256 JWTs with sub (the user's id), name and optional email.
import { SignJWT, jwtVerify } from 'jose';
import { AppError } from '../errors.ts';

export interface Claims {
  sub: string;
  name: string;
  email: string | null;
  /** When the token expires (ms since the epoch); null when it names no expiry. */
  expiresAt: number | null;
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

/** Verifies a token's signature, expiry and claims; any failure is UNAUTHENTICATED. */
export async function verifyToken(token: string, secret: string): Promise<Claims> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, await verificationKey(secret), { algorithms: ['HS256'] }));
  } catch (error) {
    const reason = (error as { code?: string }).code === 'ERR_JWT_EXPIRED' ? 'the token has expired' : 'the token is not valid';
    throw AppError.unauthenticated(`Sign in again: ${reason}`);
  }
  const { sub, name, email, exp } = payload;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 200) {
    throw AppError.unauthenticated('Sign in again: the token names no user (sub)');
  }
  return {
    sub,
    name: typeof name === 'string' && name.trim() !== '' ? name.trim() : sub,
    email: typeof email === 'string' ? email : null,
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
