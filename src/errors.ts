// One error vocabulary: AppError kinds map to extensions.code; requests refused before they run
// carry the GraphQL-over-HTTP codes; a store that cannot answer in time (StoreError 'unavailable')
// is UNAVAILABLE, to be retried; everything else is masked.
import { type ExecutionResult, GraphQLError, Kind } from 'graphql';
import { type Logger, newRequestId } from './logger.ts';
import { StoreError } from './store/store.ts';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE';

/** Codes of a request refused before anything ran: its body, its document, its variables. */
export type RequestErrorCode = 'BAD_REQUEST' | 'GRAPHQL_PARSE_FAILED' | 'GRAPHQL_VALIDATION_FAILED' | 'BAD_USER_INPUT';

/** An error the client caused or can act on; its message is shown as it is. */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; retryAfterSeconds?: number } = {},
    /** For UNAUTHENTICATED over HTTP: the WWW-Authenticate challenge (RFC 6750). */
    readonly challenge?: string,
  ) {
    super(message);
  }

  /** No usable credentials; `tokenRefused` when a bearer token was sent and is not valid. */
  static unauthenticated(message = 'Sign in: send a valid bearer token', { tokenRefused = false } = {}): AppError {
    return new AppError('UNAUTHENTICATED', message, {}, tokenRefused ? 'Bearer error="invalid_token"' : 'Bearer');
  }
  static forbidden(message: string): AppError {
    return new AppError('FORBIDDEN', message);
  }
  static notFound(what: string, field?: string): AppError {
    return new AppError('NOT_FOUND', `${what} not found`, field ? { field } : {});
  }
  static badInput(field: string, message: string): AppError {
    return new AppError('BAD_USER_INPUT', message, { field });
  }
  static conflict(field: string, message: string): AppError {
    return new AppError('CONFLICT', message, { field });
  }
  /** `what` names the writes counted ("messages", "new channels" ...). */
  static rateLimited(retryAfterSeconds: number, what = 'messages'): AppError {
    return new AppError('RATE_LIMITED', `Too many ${what}; try again in ${retryAfterSeconds} s`, {
      retryAfterSeconds,
    });
  }
  /**
   * The store did not answer within its bounded wait (a failover, a lost majority), or this process
   * is shutting down: the same request may be sent again.
   */
  static unavailable(retryAfterSeconds = 1, message = `The service is briefly unavailable; try again in ${retryAfterSeconds} s`): AppError {
    return new AppError('UNAVAILABLE', message, { retryAfterSeconds });
  }
}

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = { UNAUTHENTICATED: 401 };

/** The GraphQL error a client sees for an AppError. */
export function toGraphQLError(error: AppError, from?: GraphQLError): GraphQLError {
  const status = HTTP_STATUS[error.code];
  const headers = error.challenge ? { 'WWW-Authenticate': error.challenge } : undefined;
  return new GraphQLError(error.message, {
    nodes: from?.nodes,
    source: from?.source,
    positions: from?.positions,
    path: from?.path,
    extensions: {
      code: error.code,
      ...error.details,
      ...(status ? { http: { status, ...(headers ? { headers } : {}) } } : {}),
    },
  });
}

/**
 * A request refused before it ran. `spec` lets Yoga answer 200 to a client that only accepts
 * application/json, as the GraphQL-over-HTTP spec asks; other clients get the status.
 */
export function requestError(code: RequestErrorCode, message: string, status = 400): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status, spec: status === 400 } } });
}

/** Gives a code to what graphql-js left without one: the error as it is, with code and status added. */
function withCode(error: GraphQLError, code: RequestErrorCode): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { ...error.extensions, code, http: { status: 400, spec: true } },
  });
}

/**
 * A result that never ran (no `data`: its variables could not be coerced, or its operation not
 * chosen) has errors graphql-js leaves without a code: BAD_USER_INPUT for a variable, BAD_REQUEST
 * for the rest.
 */
export function codeRequestErrors<R extends ExecutionResult>(result: R): R {
  if ('data' in result || !result.errors?.some((error) => error.extensions?.code === undefined)) return result;
  const errors = result.errors.map((error) => {
    if (error.extensions?.code !== undefined) return error;
    const aboutVariable = error.nodes?.some((node) => node.kind === Kind.VARIABLE_DEFINITION) ?? false;
    return withCode(error, aboutVariable ? 'BAD_USER_INPUT' : 'BAD_REQUEST');
  });
  return { ...result, errors };
}

/** A GraphQL error thrown by a resolver, placed where it happened. */
function toLocated(error: GraphQLError, at?: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, { nodes: at?.nodes, path: at?.path, extensions: error.extensions });
}

/**
 * Yoga's maskError: AppErrors become coded GraphQL errors, an unavailable store becomes
 * UNAVAILABLE (with retryAfterSeconds), GraphQL's own errors (validation, coercion) pass through,
 * and anything else is logged with its stack and a request id, and masked. Client errors are not
 * logged here: each request that failed is one line (logRequestErrors).
 */
export function createErrorMasker(logger: Logger, limits: { httpBodyMaxBytes: number }) {
  return (error: unknown, message: string): Error => {
    const graphQLError = error instanceof GraphQLError ? error : undefined;
    // Layers (graphql-js, Yoga) may each wrap the thrown error once more: find what was thrown.
    const thrown: unknown[] = [];
    for (let cause: unknown = error; cause && thrown.length < 8; ) {
      thrown.push(cause);
      cause = (cause as { originalError?: unknown }).originalError;
    }
    const appError = thrown.find((cause): cause is AppError => cause instanceof AppError);
    if (appError) return toGraphQLError(appError, graphQLError);
    const unavailable = thrown.find((cause) => cause instanceof StoreError && cause.kind === 'unavailable');
    if (unavailable) {
      logger.warn({ err: unavailable, path: graphQLError?.path }, 'store unavailable');
      return toGraphQLError(AppError.unavailable(), graphQLError);
    }
    const innermost = thrown.at(-1);
    // Yoga's own refusal of a long body, in this server's words.
    if (innermost instanceof GraphQLError && innermost.extensions?.code === 'REQUEST_ENTITY_TOO_LARGE') {
      return requestError('BAD_REQUEST', `The request body is larger than ${limits.httpBodyMaxBytes} bytes`, 413);
    }
    // graphql-js' own errors (validation, variable coercion) carry no originalError: pass them on.
    if (innermost instanceof GraphQLError) return innermost === error ? innermost : toLocated(innermost, graphQLError);
    const original = innermost;
    const requestId = newRequestId();
    logger.error({ err: original, requestId, path: graphQLError?.path }, 'unexpected error');
    return new GraphQLError(message, {
      nodes: graphQLError?.nodes,
      path: graphQLError?.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
    });
  };
}
