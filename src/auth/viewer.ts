// Who is asking: verifies the bearer token and provisions the user on first sight.
import type { Viewer } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import type { Store, UserProfile } from '../store/store.ts';
import { TurnBatch } from '../batching.ts';
import { type Claims, bearerToken, verifyToken } from './tokens.ts';

/** Profiles this process has written, so a busy user costs one store write per process, not per request. */
const PROVISIONED_CACHE_SIZE = 50_000;

/** Tokens already verified: a client sends the same token with every request. */
const VERIFIED_CACHE_SIZE = 50_000;

/** How long a verified token is trusted without checking it again, at most (its own expiry comes first). */
const VERIFIED_FOR_MS = 60_000;

export class ViewerResolver {
  private readonly provisioned = new Map<string, string>();
  /** token → its claims and until when they may be reused (the token's expiry, or sooner). */
  private readonly verified = new Map<string, { claims: Claims; until: number }>();
  /** Users signing in together (clients reconnecting at once) are written in one store call. */
  private readonly profiles: TurnBatch<UserProfile>;

  constructor(
    store: Store,
    private readonly secret: string,
    private readonly options: { allowWithoutExpiry: boolean } = { allowWithoutExpiry: false },
  ) {
    this.profiles = new TurnBatch((profiles) => store.upsertUsers(profiles));
  }

  /** The claims of an Authorization header value; UNAUTHENTICATED when absent or invalid. No store access. */
  async verify(header: string | null | undefined): Promise<Claims> {
    const token = bearerToken(header);
    if (!token) throw AppError.unauthenticated();
    return this.verifyToken(token);
  }

  /** The viewer the claims name, written to the store on first sight. */
  async provision(claims: Claims, deviceId: string | null): Promise<Viewer> {
    const fingerprint = JSON.stringify([claims.name, claims.displayName, claims.email]);
    if (this.provisioned.get(claims.sub) !== fingerprint) {
      await this.profiles.add({ id: claims.sub, name: claims.name, displayName: claims.displayName, email: claims.email });
      if (this.provisioned.size >= PROVISIONED_CACHE_SIZE) this.provisioned.clear();
      this.provisioned.set(claims.sub, fingerprint);
    }
    return { id: claims.sub, name: claims.name, deviceId };
  }

  /** The token's claims: checked once, then reused until it expires (a minute at most). */
  private async verifyToken(token: string): Promise<Claims> {
    const now = Date.now();
    const known = this.verified.get(token);
    if (known && known.until > now) return known.claims;
    const claims = await verifyToken(token, this.secret, { allowWithoutExpiry: this.options.allowWithoutExpiry });
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear();
    this.verified.set(token, { claims, until: Math.min(claims.expiresAt ?? Infinity, now + VERIFIED_FOR_MS) });
    return claims;
  }
}
