// Who is asking: verifies the bearer token and provisions the user on first sight.
import type { Viewer } from '../domain/types.ts';
import { AppError } from '../errors.ts';
import type { Store, UserProfile } from '../store/store.ts';
import { WriteBatch } from '../store/write-batch.ts';
import { type Claims, bearerToken, verifyToken } from './tokens.ts';

/** Profiles this process has written, so a busy user costs one store write per process, not per request. */
const PROVISIONED_CACHE_SIZE = 50_000;

export class ViewerResolver {
  private readonly provisioned = new Map<string, string>();
  /** Users signing in together (clients reconnecting at once) are written in one store call. */
  private readonly profiles: WriteBatch<UserProfile>;

  constructor(
    store: Store,
    private readonly secret: string,
  ) {
    this.profiles = new WriteBatch((profiles) => store.upsertUsers(profiles));
  }

  /** The viewer of an Authorization header value; UNAUTHENTICATED when absent or invalid. */
  async fromAuthorization(header: string | null | undefined, deviceId: string | null): Promise<Viewer> {
    const token = bearerToken(header);
    if (!token) throw AppError.unauthenticated();
    const claims = await verifyToken(token, this.secret);
    await this.provision(claims);
    return { id: claims.sub, name: claims.name, deviceId };
  }

  private async provision(claims: Claims): Promise<void> {
    const fingerprint = JSON.stringify([claims.name, claims.email]);
    if (this.provisioned.get(claims.sub) === fingerprint) return;
    await this.profiles.add({ id: claims.sub, name: claims.name, displayName: null, email: claims.email });
    if (this.provisioned.size >= PROVISIONED_CACHE_SIZE) this.provisioned.clear();
    this.provisioned.set(claims.sub, fingerprint);
  }
}
