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
  static rateLimited(retryAfterSeconds: number): AppError {
    return new AppError('RATE_LIMITED', `Too many messages; try again in ${retryAfterSeconds} s`, {
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

/**
 * Yoga's maskError: AppErrors become coded GraphQL errors, GraphQL's own errors (validation,
 * coercion) pass through, and anything else is logged with its request id and masked.
 */
export function createErrorMasker(logger: Logger) {
  return (error: unknown, message: string): Error => {
    const graphQLError = error instanceof GraphQLError ? error : undefined;
    const original = graphQLError?.originalError ?? error;
    if (original instanceof AppError) return toGraphQLError(original, graphQLError);
    if (original instanceof GraphQLError) return original;
    if (graphQLError && !graphQLError.originalError) return graphQLError;
    const requestId = Math.random().toString(36).slice(2, 10);
    logger.error({ err: original, requestId, path: graphQLError?.path }, 'unexpected error');
    return new GraphQLError(message, {
      nodes: graphQLError?.nodes,
      path: graphQLError?.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
    });
  };
}
