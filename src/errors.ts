// One error vocabulary: AppError kinds map to extensions.code; everything else is masked.
import { GraphQLError } from 'graphql';
import type { Logger } from './logger.ts';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED';

/** An error the client caused or can act on; its message is shown as it is. */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }

  static unauthenticated(message = 'Sign in: send a valid bearer token'): AppError {
    return new AppError('UNAUTHENTICATED', message);
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
}

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = { UNAUTHENTICATED: 401 };

/** The GraphQL error a client sees for an AppError. */
export function toGraphQLError(error: AppError, from?: GraphQLError): GraphQLError {
  const status = HTTP_STATUS[error.code];
  return new GraphQLError(error.message, {
    nodes: from?.nodes,
    source: from?.source,
    positions: from?.positions,
    path: from?.path,
    extensions: {
      code: error.code,
      ...error.details,
      ...(status ? { http: { status } } : {}),
    },
  });
}

/** A GraphQL error thrown by a resolver, placed where it happened. */
function toLocated(error: GraphQLError, at?: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, { nodes: at?.nodes, path: at?.path, extensions: error.extensions });
}

/**
 * Yoga's maskError: AppErrors become coded GraphQL errors, GraphQL's own errors (validation,
 * coercion) pass through, and anything else is logged with its request id and masked.
 */
export function createErrorMasker(logger: Logger) {
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
    const innermost = thrown.at(-1);
    // graphql-js' own errors (validation, variable coercion) carry no originalError: pass them on.
    if (innermost instanceof GraphQLError) return innermost === error ? innermost : toLocated(innermost, graphQLError);
    const original = innermost;
    const requestId = Math.random().toString(36).slice(2, 10);
    logger.error({ err: original, requestId, path: graphQLError?.path }, 'unexpected error');
    return new GraphQLError(message, {
      nodes: graphQLError?.nodes,
      path: graphQLError?.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
    });
  };
}
