// Bearer tokens: only an HS256 signature by the server's secret over the exact header and claims
// signs someone in, and only while the token's time claims say it is valid.
import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { verifyToken } from '../../src/auth/tokens.ts';

const SECRET = 'a-secret-of-at-least-16-chars';
const bytes = (secret: string) => new TextEncoder().encode(secret);
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function signed(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256' }, secret = SECRET) {
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(bytes(secret));
}

/** A token signed with the secret whatever its header says (jose refuses to sign some of these). */
function handSigned(header: Record<string, unknown>, claims: Record<string, unknown>) {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

async function refusal(token: string, options?: { allowWithoutExpiry?: boolean }) {
  return verifyToken(token, SECRET, options).then(
    () => 'accepted',
    (error: Error) => error.message,
  );
}

describe('bearer tokens', () => {
  it('accept an HS256 token signed with the secret, with its claims', async () => {
    const token = await signed({ sub: 'ann', name: 'Ann', email: 'ann@example.com', iat: now(), exp: now() + 60 });
    await expect(verifyToken(token, SECRET)).resolves.toMatchObject({ sub: 'ann', name: 'Ann', email: 'ann@example.com' });
  });

  it('refuse a token signed with another secret, or altered after signing', async () => {
    const token = await signed({ sub: 'ann', exp: now() + 60 });
    expect(await refusal(await signed({ sub: 'ann', exp: now() + 60 }, { alg: 'HS256' }, 'another-secret-of-16-chars'))).toMatch(/not valid/);
    const [header, , signature] = token.split('.');
    expect(await refusal(`${header}.${b64({ sub: 'root', exp: now() + 60 })}.${signature}`)).toMatch(/not valid/);
    expect(await refusal(`${header}.${token.split('.')[1]}.${signature!.slice(0, -2)}AA`)).toMatch(/not valid/);
    expect(await refusal(`${token}.`)).toMatch(/not valid/);
    expect(await refusal(token.replace('.', '.*'))).toMatch(/not valid/);
  });

  it('refuse other algorithms, unsigned tokens and headers the check does not understand', async () => {
    const claims = { sub: 'ann', exp: now() + 60 };
    expect(await refusal(await signed(claims, { alg: 'HS512' }))).toMatch(/not valid/);
    expect(await refusal(`${b64({ alg: 'none' })}.${b64(claims)}.`)).toMatch(/not valid/);
    expect(await refusal(`${b64({ alg: 'none' })}.${b64(claims)}.x`)).toMatch(/not valid/);
    expect(await refusal(handSigned({ alg: 'HS256' }, claims))).toBe('accepted');
    expect(await refusal(handSigned({ alg: 'HS256', crit: ['exp'], exp: 1 }, claims))).toMatch(/not valid/);
    expect(await refusal(handSigned({ alg: 'HS256', b64: false, crit: ['b64'] }, claims))).toMatch(/not valid/);
  });

  it('refuse a token that has expired, is not valid yet, or has no expiry unless allowed', async () => {
    expect(await refusal(await signed({ sub: 'ann', exp: now() - 1 }))).toMatch(/expired/);
    expect(await refusal(await signed({ sub: 'ann', exp: now() + 60, nbf: now() + 60 }))).toMatch(/not valid/);
    expect(await refusal(await signed({ sub: 'ann', exp: String(now() + 60) }))).toMatch(/not valid/);
    expect(await refusal(await signed({ sub: 'ann' }))).toMatch(/no expiry/);
    expect(await refusal(await signed({ sub: 'ann' }), { allowWithoutExpiry: true })).toBe('accepted');
  });
});
