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
  ) {
    this.profiles = new TurnBatch((profiles) => store.upsertUsers(profiles));
  }

  /** The viewer of an Authorization header value; UNAUTHENTICATED when absent or invalid. */
  async fromAuthorization(header: string | null | undefined, deviceId: string | null): Promise<Viewer> {
    const token = bearerToken(header);
    if (!token) throw AppError.unauthenticated();
    const claims = await this.verify(token);
    await this.provision(claims);
    return { id: claims.sub, name: claims.name, deviceId };
  }

  /** The token's claims: checked once, then reused until it expires (a minute at most). */
  private async verify(token: string): Promise<Claims> {
    const now = Date.now();
    const known = this.verified.get(token);
    if (known && known.until > now) return known.claims;
    const claims = await verifyToken(token, this.secret);
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear();
    this.verified.set(token, { claims, until: Math.min(claims.expiresAt ?? Infinity, now + VERIFIED_FOR_MS) });
    return claims;
  }

  private async provision(claims: Claims): Promise<void> {
    const fingerprint = JSON.stringify([claims.name, claims.displayName, claims.email]);
    if (this.provisioned.get(claims.sub) === fingerprint) return;
    await this.profiles.add({ id: claims.sub, name: claims.name, displayName: claims.displayName, email: claims.email });
    if (this.provisioned.size >= PROVISIONED_CACHE_SIZE) this.provisioned.clear();
    this.provisioned.set(claims.sub, fingerprint);
  }
}
