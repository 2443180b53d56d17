// GraphQL over HTTP as a client app sees it in bad weather: every answer is one of data, a coded
// GraphQL error (with retryAfterSeconds when rate limited), a timeout, or a network error; nothing
// throws, so callers decide what to retry.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type DocumentNode, print } from 'graphql';

export type Outcome<T> =
  | { ok: true; data: T }
  | { ok: false; failure: 'network' | 'timeout' | 'http' | 'graphql'; codes: string[]; retryAfterMs: number; message: string };

/** Codes after which the same request may succeed: a moment later, or on another process. */
export const RETRYABLE_CODES: readonly string[] = ['RATE_LIMITED', 'UNAVAILABLE', 'INTERNAL_SERVER_ERROR'];

const printed = new WeakMap<DocumentNode, string>();
export function queryText(document: DocumentNode): string {
  let text = printed.get(document);
  if (!text) printed.set(document, (text = print(document)));
  return text;
}

interface Body<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; retryAfterSeconds?: number } }[];
}

/** What one answer's errors say, as a failed outcome. */
export function graphqlFailure(errors: NonNullable<Body<unknown>['errors']>): Outcome<never> {
  const codes = errors.map((e) => e.extensions?.code ?? 'NO_CODE');
  const retryAfter = Math.max(0, ...errors.map((e) => e.extensions?.retryAfterSeconds ?? 0));
  return { ok: false, failure: 'graphql', codes, retryAfterMs: retryAfter * 1000, message: errors.map((e) => e.message).join('; ').slice(0, 300) };
}

/** One POST of one operation, given up after timeoutMs. */
export async function call<T, V>(url: string, token: string, document: TypedDocumentNode<T, V>, variables: V, timeoutMs: number): Promise<Outcome<T>> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: queryText(document), variables }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    const name = (error as Error).name;
    const failure = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network';
    return { ok: false, failure, codes: [], retryAfterMs: 0, message: String((error as Error).message).slice(0, 200) };
  }
  let body: Body<T>;
  try {
    body = JSON.parse(text) as Body<T>;
  } catch {
    return { ok: false, failure: 'http', codes: [], retryAfterMs: 0, message: `HTTP ${response.status}: ${text.slice(0, 200)}` };
  }
  if (body.errors?.length) return graphqlFailure(body.errors);
  if (!body.data) return { ok: false, failure: 'http', codes: [], retryAfterMs: 0, message: `HTTP ${response.status} without data` };
  return { ok: true, data: body.data };
}

/** How a failed outcome is written in a history: its codes, or the kind of failure. */
export const describe = (outcome: Outcome<unknown>): string => (outcome.ok ? 'ok' : outcome.codes.length ? outcome.codes.join(',') : outcome.failure);
