// Who is asking over HTTP, settled from the Authorization header before the document is parsed or
// validated: a request without a valid token costs a header check (and, without any token, a
// bounded parse to see whether it only reads the schema, which needs no sign-in).
import { parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Viewer } from '../domain/types.ts';
import { AppError, toGraphQLError } from '../errors.ts';
import { asksOnlyForSchema } from '../limits/document.ts';
import type { Claims } from './tokens.ts';
import type { ViewerResolver } from './viewer.ts';

/** The viewer of an operation that only reads the schema (introspection, _service). */
const SCHEMA_READER: Viewer = { id: '', name: '', deviceId: null };

const SCHEMA_ONLY = Symbol('schema only');

function onlyReadsSchema(query: unknown, tokensMax: number): boolean {
  if (typeof query !== 'string') return false;
  try {
    return asksOnlyForSchema(parse(query, { maxTokens: tokensMax, noLocation: true }));
  } catch {
    return false;
  }
}

/**
 * The plugin that admits or refuses each HTTP request (401, with a WWW-Authenticate challenge),
 * and the viewer of an admitted one, provisioned when its context is built.
 */
export function createHttpAuthentication(viewers: ViewerResolver, limits: { queryTokensMax: number }) {
  const admitted = new WeakMap<Request, Claims | typeof SCHEMA_ONLY>();
  const plugin: Plugin = {
    async onParams({ request, params, setResult }) {
      const header = request.headers.get('authorization');
      if (header === null && onlyReadsSchema(params.query, limits.queryTokensMax)) {
        admitted.set(request, SCHEMA_ONLY);
        return;
      }
      try {
        admitted.set(request, await viewers.verify(header));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        setResult({ errors: [toGraphQLError(error)] });
      }
    },
  };

  async function viewerOf(request: Request): Promise<Viewer> {
    const claims = admitted.get(request);
    if (claims === SCHEMA_ONLY) return SCHEMA_READER;
    if (!claims) throw AppError.unauthenticated();
    return viewers.provision(claims, null);
  }

  return { plugin, viewerOf };
}
