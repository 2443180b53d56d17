// A minimal GraphQL-over-HTTP client for our server, and token minting (HS256, like the
// identity provider our server trusts). Operations are the client app's own typed documents
// (operations/generated/) or plain text for what only the bench does.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { SignJWT } from 'jose';
import { post } from './http.ts';

export function mintToken(secret: string, sub: string, name: string): Promise<string> {
  return new SignJWT({ name })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(secret));
}

export class GraphQLError extends Error {
  override name = 'GraphQLError';
}

const printed = new WeakMap<object, string>();

/** The text of a document, printed once. */
export function documentText(document: string | TypedDocumentNode<unknown, never>): string {
  if (typeof document === 'string') return document;
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

export class GraphQLClient {
  constructor(readonly url: string) {}

  /** POSTs one operation; throws on a transport error, a non-200 answer or any GraphQL error. */
  async request<T, V = Record<string, unknown>>(token: string, query: string | TypedDocumentNode<T, V>, variables?: V): Promise<T> {
    const { status, text } = await post(
      this.url,
      JSON.stringify({ query: documentText(query as TypedDocumentNode<unknown, never>), variables: variables ?? {} }),
      { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      60_000,
    );
    let body: { data?: T; errors?: { message: string }[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new GraphQLError(`HTTP ${status}: ${text.slice(0, 300)}`);
    }
    if (body.errors?.length) throw new GraphQLError(body.errors.map((e) => e.message).join('; ').slice(0, 500));
    if (status !== 200 || body.data === undefined) throw new GraphQLError(`HTTP ${status}: ${text.slice(0, 300)}`);
    return body.data;
  }
}

/** Runs fn over items with at most `limit` in flight; resolves when all are done. */
export async function pool<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
