// GraphQL over HTTP with typed documents (operations/generated): results and variables are typed,
// and a response with errors becomes one Error naming their codes.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';

interface GraphQLResponse<Result> {
  data?: Result | null;
  errors?: { message: string; extensions?: { code?: string; retryAfterSeconds?: number } }[];
}

/** An error the API answered with: its extensions.code (RATE_LIMITED, FORBIDDEN, ...) and message. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(`${code}: ${message}`);
  }
}

/** One user's connection to the API: the endpoint and the user's bearer token. */
export class ChatHttp {
  constructor(
    readonly url: string,
    readonly token: string,
  ) {}

  async request<Result, Variables>(document: TypedDocumentNode<Result, Variables>, variables: Variables): Promise<Result> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const { data, errors } = (await response.json()) as GraphQLResponse<Result>;
    const [error] = errors ?? [];
    if (error) throw new ApiError(error.extensions?.code ?? 'ERROR', error.message, error.extensions?.retryAfterSeconds);
    if (!data) throw new ApiError('ERROR', `no data (HTTP ${response.status})`);
    return data;
  }
}
